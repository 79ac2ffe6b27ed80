//! Bounded reads of local inputs (`FILE` or `-` for stdin): a file past its limit is a usage
//! error, never a process that grows until the kernel kills it (`--body /dev/zero`).
//! Key files go through `wxpay_ureq::load_key`, bounded by `wxpay_ureq::MAX_KEY_FILE_BYTES`.

use std::path::Path;

use zeroize::Zeroizing;

use crate::Failure;

/// Largest `--headers` file: a callback's request head is far smaller.
pub(crate) const MAX_HEADERS_BYTES: usize = 64 * 1024;
/// Largest `--body` file: a callback body is a few kilobytes.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest `--apiv3-key-file`: the key is 32 characters (whitespace around it is trimmed).
pub(crate) const MAX_APIV3_KEY_FILE_BYTES: usize = 1024;

/// Reads `source` (a path, or `-` for stdin) for option `--{option}`, at most `limit` bytes,
/// into a buffer that is zeroized when dropped. For any bounded input a subcommand reads.
pub(crate) fn read_bounded(
    source: &str,
    limit: usize,
    option: &str,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let result = if source == "-" {
        wxpay_ureq::read_bounded(std::io::stdin().lock(), limit)
    } else {
        std::fs::File::open(Path::new(source)).and_then(|f| wxpay_ureq::read_bounded(f, limit))
    };
    match result {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(Failure::usage(format!(
            "--{option} {source}: larger than {limit} bytes"
        ))),
        Err(e) => Err(Failure::usage(format!(
            "cannot read --{option} {source}: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_enforced() {
        let path = std::env::temp_dir().join(format!("wxpay-cli-input-{}", std::process::id()));
        let name = path.to_str().expect("utf-8 temp dir").to_owned();
        #[rustfmt::skip]
        let cases: &[(usize, usize, Option<&str>)] = &[
            (0,  0, None),
            (10, 10, None),
            (11, 10, Some("larger than 10 bytes")),
        ];
        for (len, limit, error) in cases {
            std::fs::write(&path, vec![b'x'; *len]).expect("writes");
            let got = read_bounded(&name, *limit, "body");
            match error {
                None => assert_eq!(got.expect("fits").len(), *len),
                Some(needle) => {
                    let line = got.expect_err("too large").1;
                    assert!(
                        line.starts_with("--body ") && line.contains(needle),
                        "{line}"
                    );
                }
            }
        }
        let _ = std::fs::remove_file(&path);
        let line = read_bounded("/nonexistent/x", 10, "headers")
            .expect_err("missing")
            .1;
        assert!(
            line.starts_with("cannot read --headers /nonexistent/x"),
            "{line}"
        );
    }
}
