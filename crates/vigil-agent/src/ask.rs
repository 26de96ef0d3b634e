//! From a question in plain words to a checked [`Query`]: by a model when one is
//! configured and answers well, else by the built-in parser.

use serde::Serialize;
use serde_json::json;
use vigil_attack::Attack;
use vigil_llm::{Chain, Message, Request, StreamEvent};

use crate::Error;
use crate::parse::parse;
use crate::prompt::quote;
use crate::query::{Query, schema};

/// A question turned into a query, and who did it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The question.
    pub question: String,
    /// The query that will run.
    pub query: Query,
    /// `built-in parser`, or `model <model> (<provider>)`.
    pub by: String,
    /// Whether a small local model wrote the query (check it before trusting the answer).
    pub low_confidence: bool,
    /// What the built-in parser understood (its phrases and what each became).
    pub understood: Vec<String>,
    /// Words the built-in parser ignored.
    pub ignored: Vec<String>,
    /// Notes: why a model's query was not used, and the like.
    pub notes: Vec<String>,
}

const INSTRUCTIONS: &str = "You turn a security analyst's question into a hunting query for vigil, \
which runs it over stored detections, incidents or events. Answer only with the query. \
target: `detections` (rule matches, the default), `incidents`, or `events` (raw log events, for \
questions about logins, connections or commands that need not match a rule). \
last: a window back from now such as `30m`, `12h`, `3d`, `2w`; or from/to as RFC 3339 times or \
YYYY-MM-DD dates; null when the question gives no time. \
sources: words naming log sources (`ssh`, `sudo`, `sysmon`, `security`, `firewall`, `cloudtrail`, \
`okta`, `azure`, `dns`, `web`). \
filters: field conditions; fields are `host`, `user`, `source.ip`, `destination.ip`, `process`, \
`command_line`, `parent_process`, `file`, `domain`, `event_id`, `outcome` (success/failure), \
`action`, `rule`, `level`, or an event field name; op is equals, not_equals, contains or starts_with. \
techniques: MITRE ATT&CK technique ids (T1110 brute force, T1003 credential dumping, T1059.001 \
PowerShell...). tactics: ATT&CK tactic short names (credential-access, lateral-movement...). \
rules: words of rule titles. min_level: the lowest level wanted or null. group_by: a field to \
count by, or null. limit: the number of rows or groups wanted, or null. \
Never put instructions, explanations or anything but the query's values in the answer.";

/// Turns `question` into a query. With a non-empty `chain` the model writes it (streamed to
/// `on`); a model that fails, or writes a query that does not check out against ATT&CK,
/// hands over to the built-in parser, and the plan's notes say why.
pub fn plan(
    question: &str,
    chain: Option<&Chain>,
    attack: &Attack,
    on: &mut dyn FnMut(StreamEvent<'_>),
) -> Result<Plan, Error> {
    let question = question.trim();
    if question.is_empty() {
        return Err(Error::NotUnderstood {
            question: String::new(),
            why: "the question is empty".to_owned(),
        });
    }
    let mut notes = Vec::new();
    if let Some(chain) = chain.filter(|c| !c.is_empty()) {
        let request = Request::new(vec![
            Message::system(format!("{INSTRUCTIONS}\n\n{}", crate::prompt::DATA_RULE)),
            Message::user(format!(
                "Question:\n{}",
                quote(&json!({"question": question}))
            )),
        ])
        .with_schema("hunting_query", schema())
        .with_max_tokens(400);
        match chain.complete_json(&request, on) {
            Ok((value, completion)) => match serde_json::from_value::<Query>(value) {
                Ok(query) => {
                    let problems = query.check(attack);
                    if problems.is_empty() && !query.is_empty() {
                        return Ok(Plan {
                            question: question.to_owned(),
                            query,
                            by: format!("model {} ({})", completion.model, completion.provider),
                            low_confidence: completion.low_confidence,
                            understood: Vec::new(),
                            ignored: Vec::new(),
                            notes: completion
                                .fallbacks
                                .iter()
                                .map(|a| format!("provider {} failed: {}", a.provider, a.error))
                                .collect(),
                        });
                    }
                    let why = if problems.is_empty() {
                        "it asks nothing".to_owned()
                    } else {
                        problems.join("; ")
                    };
                    notes.push(format!("the model's query was not used: {why}"));
                }
                Err(error) => notes.push(format!("the model's query was not used: {error}")),
            },
            Err(error) => notes.push(format!(
                "no model answered ({error}); the built-in parser read the question"
            )),
        }
    }
    let Some(parsed) = parse(question) else {
        return Err(Error::NotUnderstood {
            question: question.to_owned(),
            why: "the built-in parser found no topic, technique, source, time, entity or count in it \
                  (it reads questions like \"SSH brute force from the last 3 days\", \
                  \"top 10 source ips with failed logins\", \"incidents on host DC1 with T1003\")"
                .to_owned(),
        });
    };
    let problems = parsed.query.check(attack);
    if !problems.is_empty() {
        return Err(Error::NotUnderstood {
            question: question.to_owned(),
            why: problems.join("; "),
        });
    }
    Ok(Plan {
        question: question.to_owned(),
        query: parsed.query,
        by: "built-in parser".to_owned(),
        low_confidence: false,
        understood: parsed.understood,
        ignored: parsed.ignored,
        notes,
    })
}
