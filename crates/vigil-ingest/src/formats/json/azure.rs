//! Microsoft Entra ID (Azure AD) sign-ins: the `Status` Sigma rules test.
//!
//! Sigma's sign-in rules were written against Sentinel's `SigninLogs` table, where
//! `Status` holds the outcome and its details: rules test `Status: 'Success'` and
//! `Status|contains: 'MFA Denied'`. The raw records state the outcome only as an error
//! code (`status.errorCode`, 0 for success), so the reader adds `Status`: `Success` or
//! `Failure`, followed by the status's `additionalDetails` when there are any (a list; a
//! rule matches any of its items).

use vigil_event::{Fields, Value};

/// The field the outcome is added as.
const STATUS: &str = "Status";

/// Adds `Status` from the sign-in's error code, unless the record has one.
pub(super) fn add_status(fields: &mut Fields) {
    if fields.get(STATUS).is_some() {
        return;
    }
    let code = [
        "properties.status.errorCode",
        "status.errorCode",
        "resultType",
    ]
    .iter()
    .find_map(|name| fields.get(name).and_then(Value::as_i64));
    let Some(code) = code else {
        return;
    };
    let outcome = Value::from(if code == 0 { "Success" } else { "Failure" });
    let details = [
        "properties.status.additionalDetails",
        "status.additionalDetails",
    ]
    .iter()
    .find_map(|name| fields.get(name).and_then(Value::as_str))
    .filter(|details| !details.is_empty())
    .map(Value::from);
    let status = match details {
        Some(details) => Value::List(vec![outcome, details]),
        None => outcome,
    };
    fields.push(STATUS, status);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(pairs: &[(&str, Value)]) -> Option<Value> {
        let mut fields: Fields = pairs.iter().cloned().collect();
        add_status(&mut fields);
        fields.get(STATUS).cloned()
    }

    #[test]
    fn the_error_code_gives_the_outcome() {
        assert_eq!(
            status(&[("properties.status.errorCode", Value::Int(0))]),
            Some(Value::from("Success"))
        );
        assert_eq!(
            status(&[
                ("status.errorCode", Value::Int(500121)),
                (
                    "status.additionalDetails",
                    Value::from("MFA denied; user declined the authentication")
                ),
            ]),
            Some(Value::List(vec![
                Value::from("Failure"),
                Value::from("MFA denied; user declined the authentication")
            ]))
        );
        assert_eq!(
            status(&[("resultType", Value::from("50126"))]),
            Some(Value::from("Failure"))
        );
        assert_eq!(status(&[("x", Value::Int(0))]), None);
        assert_eq!(
            status(&[
                ("Status", Value::from("kept")),
                ("resultType", Value::from("0"))
            ]),
            Some(Value::from("kept"))
        );
    }
}
