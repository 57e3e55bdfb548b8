//! A call the credentials may not make, told as the statement that allows it.

use serde::Serialize;

/// Something the credentials in use may not see or do, and the IAM policy
/// statement that would allow it (the operator policy's, narrowed to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denied {
    /// What could not be seen or done, for a person.
    pub what: String,
    /// The statement, as JSON (`{"Effect": "Allow", "Action": …, "Resource": …}`).
    pub statement: String,
}

impl Denied {
    pub(crate) fn new(what: impl Into<String>, actions: &[&str], resources: &[String]) -> Self {
        let statement = serde_json::json!({
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources,
        });
        Self {
            what: what.into(),
            statement: statement.to_string(),
        }
    }
}
