//! The `WXPAY_*` environment: every variable wxpay reads is an option's `env`, and any other
//! `WXPAY_*` variable is an error naming the closest known one (a misspelt variable must not
//! silently leave an option unset).
//!
//! The list is the clap definition's: a new subcommand's options declare
//! `#[arg(long, env = "WXPAY_…")]`, the test `every_option_has_its_variable` holds them to the
//! naming rule, and `known_variables_match_the_definition` holds [`KNOWN`] to the definition.

use std::ffi::OsString;

use crate::Failure;

/// Every `WXPAY_*` variable some option of some subcommand reads, sorted: the clap
/// definition's list, written out so that a run does not build the whole command tree to
/// learn it (that was a fifth of `wxpay --version`'s CPU). `known_variables_match_the_definition`
/// holds it to the definition: a new option's variable fails that test until it is added here.
const KNOWN: &[&str] = &[
    "WXPAY_APIV3_KEY",
    "WXPAY_APIV3_KEY_FILE",
    "WXPAY_APPID",
    "WXPAY_AUTHORIZATION_CODE",
    "WXPAY_BASE_URL",
    "WXPAY_BODY",
    "WXPAY_DATA",
    "WXPAY_HEADERS",
    "WXPAY_MCHID",
    "WXPAY_NOTIFY_URL",
    "WXPAY_OPENID",
    "WXPAY_OUTPUT_DIR",
    "WXPAY_OUT_ORDER_NO",
    "WXPAY_PAID_TIME",
    "WXPAY_PLATFORM_CERT",
    "WXPAY_PLATFORM_PUBLIC_KEY",
    "WXPAY_PLATFORM_SERIAL",
    "WXPAY_PRIVATE_KEY",
    "WXPAY_PROXY",
    "WXPAY_QUERY_ID",
    "WXPAY_REASON",
    "WXPAY_SANDBOX",
    "WXPAY_SANDBOX_CALLBACK_DIR",
    "WXPAY_SANDBOX_CERTIFICATE_MODE",
    "WXPAY_SANDBOX_FAULT",
    "WXPAY_SANDBOX_KEYS_DIR",
    "WXPAY_SANDBOX_LISTEN",
    "WXPAY_SERIAL",
    "WXPAY_SERVICE_ID",
    "WXPAY_TIMEOUT_SECS",
];

/// Refuses a `WXPAY_*` variable (in `vars`, e.g. `std::env::vars_os()`) that no option reads.
pub(crate) fn check(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Result<(), Failure> {
    let mut unknown: Vec<String> = vars
        .into_iter()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .filter(|name| name.starts_with("WXPAY_") && !KNOWN.contains(&name.as_str()))
        .collect();
    unknown.sort();
    let Some(first) = unknown.first() else {
        return Ok(());
    };
    let hint = match closest(first, KNOWN) {
        Some(near) => format!("did you mean {near}?"),
        None => "no option reads it (see wxpay --help)".to_owned(),
    };
    let others = match unknown.len() {
        1 => String::new(),
        n => format!(" ({} more unknown WXPAY_* variables)", n - 1),
    };
    Err(Failure::usage(format!("unknown {first}; {hint}{others}")))
}

/// The known name nearest to `name`, if it is near enough to be a typo.
fn closest(name: &str, known: &[&'static str]) -> Option<&'static str> {
    let suffix = |s: &str| s.trim_start_matches("WXPAY_").to_ascii_uppercase();
    let wanted = suffix(name);
    known
        .iter()
        .map(|&k| (distance(&wanted, &suffix(k)), k))
        .filter(|(d, k)| *d <= 2.max(suffix(k).len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over bytes.
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(0);
            let left = row.get(j).copied().unwrap_or(0);
            let value = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(left + 1);
            diagonal = above;
            if let Some(slot) = row.get_mut(j + 1) {
                *slot = value;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::Cli;

    fn vars(names: &[&str]) -> Vec<(OsString, OsString)> {
        names.iter().map(|n| (n.into(), "x".into())).collect()
    }

    #[test]
    fn typos_name_the_closest_variable() {
        #[rustfmt::skip]
        let cases: &[(&[&str], Option<&str>)] = &[
            (&[],                                   None),
            (&["PATH", "HOME", "WXPAYX"],           None),
            (&["WXPAY_MCHID", "WXPAY_SANDBOX"],     None),
            (&["WXPAY_MCH_ID"],                     Some("unknown WXPAY_MCH_ID; did you mean WXPAY_MCHID?")),
            (&["WXPAY_PRIVATEKEY"],                 Some("unknown WXPAY_PRIVATEKEY; did you mean WXPAY_PRIVATE_KEY?")),
            (&["WXPAY_SERVICEID"],                  Some("unknown WXPAY_SERVICEID; did you mean WXPAY_SERVICE_ID?")),
            (&["WXPAY_PLATFORM_SERIAL_NO"],         Some("unknown WXPAY_PLATFORM_SERIAL_NO; did you mean WXPAY_PLATFORM_SERIAL?")),
            (&["WXPAY_APIV3KEY_FILE"],              Some("unknown WXPAY_APIV3KEY_FILE; did you mean WXPAY_APIV3_KEY_FILE?")),
            (&["WXPAY_sandbox"],                    Some("unknown WXPAY_sandbox; did you mean WXPAY_SANDBOX?")),
            (&["WXPAY_WHATEVER_ELSE"],              Some("unknown WXPAY_WHATEVER_ELSE; no option reads it (see wxpay --help)")),
            (&["WXPAY_MCHID", "WXPAY_B", "WXPAY_A"], Some("unknown WXPAY_A; no option reads it (see wxpay --help) (1 more unknown WXPAY_* variables)")),
        ];
        for (names, want) in cases {
            let got = check(vars(names)).err().map(|f| f.1);
            assert_eq!(got.as_deref(), *want, "{names:?}");
        }
    }

    /// Every option reads `WXPAY_<OPTION>` (`--mchid` → `WXPAY_MCHID`), the `sandbox`
    /// subcommand's options `WXPAY_SANDBOX_<OPTION>`: what the README promises.
    #[test]
    fn every_option_has_its_variable() {
        fn walk(command: &clap::Command, path: &str, sandbox: bool) {
            for arg in command.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if matches!(long, "help" | "version") {
                    continue;
                }
                let stem = long.to_ascii_uppercase().replace('-', "_");
                let want = if sandbox && long != "sandbox" {
                    format!("WXPAY_SANDBOX_{stem}")
                } else {
                    format!("WXPAY_{stem}")
                };
                let env = arg.get_env().and_then(|e| e.to_str());
                assert_eq!(env, Some(want.as_str()), "{path} --{long}");
            }
            for sub in command.get_subcommands() {
                let name = sub.get_name();
                walk(sub, &format!("{path} {name}"), sandbox || name == "sandbox");
            }
        }
        walk(&definition(), "wxpay", false);
        assert!(KNOWN.contains(&"WXPAY_SANDBOX"));
        assert!(KNOWN.contains(&"WXPAY_PROXY"));
    }

    /// The whole command tree, its deferred subcommands built.
    fn definition() -> clap::Command {
        let mut command = Cli::command();
        command.build();
        command
    }

    /// [`KNOWN`] is exactly the variables the definition reads, sorted, without repeats.
    #[test]
    fn known_variables_match_the_definition() {
        fn walk(command: &clap::Command, out: &mut Vec<String>) {
            for arg in command.get_arguments() {
                if let Some(name) = arg.get_env().and_then(|n| n.to_str()) {
                    out.push(name.to_owned());
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, out);
            }
        }
        let mut defined = Vec::new();
        walk(&definition(), &mut defined);
        defined.sort();
        defined.dedup();
        assert_eq!(
            KNOWN, defined,
            "add the new variable to env::KNOWN (sorted)"
        );
    }

    #[test]
    fn distances() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, usize)] = &[
            ("", "", 0), ("A", "", 1), ("", "AB", 2), ("MCH_ID", "MCHID", 1),
            ("KITTEN", "SITTING", 3), ("SAME", "SAME", 0),
        ];
        for (a, b, d) in cases {
            assert_eq!(distance(a, b), *d, "{a} {b}");
            assert_eq!(distance(b, a), *d, "{b} {a}");
        }
    }
}
