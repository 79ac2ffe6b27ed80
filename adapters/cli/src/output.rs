//! JSON output: values exactly as received; fields the server omitted are omitted.

use serde_json::Value;
use wxpay_core::Error;
use wxpay_core::model::Record;

/// A verified record as one JSON object, rendered by its declaration: members in the API's
/// order, values exactly as received, absent fields left out.
pub fn render<R: Record>(record: &R) -> Value {
    let mut buf = vec![0u8; 4096];
    let text = match record.write_json(&mut buf) {
        Err(Error::BufferTooSmall { needed }) => {
            buf = vec![0u8; needed];
            record.write_json(&mut buf).map(str::to_owned)
        }
        other => other.map(str::to_owned),
    };
    // The renderer writes well-formed JSON; a failure here is a bug, shown rather than hidden.
    text.ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| Value::String("<record could not be rendered>".into()))
}
