use serde_json::{Value, json};
use vigil_agent::narrative::{self, Outcome};

use crate::support::{attack, corpus_run, data_of, scripted, unknown_entities};

/// A model that writes only from the facts it is given.
fn faithful(data: &Value) -> String {
    let list = |key: &str| -> Vec<String> {
        data[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let techniques: Vec<String> = data["techniques"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect();
    let mut summary = format!(
        "A {} incident with risk score {} was found: {}.",
        data["severity"].as_str().unwrap_or(""),
        data["risk_score"],
        data["title"].as_str().unwrap_or("")
    );
    if let Some(host) = list("hosts").first() {
        summary.push_str(&format!(" It affects {host}."));
    }
    summary.push_str(" Contain the affected systems first.");
    let mut story = format!(
        "Activity began at {}.",
        data["first_seen"].as_str().unwrap_or("an unknown time")
    );
    if let Some(user) = list("users").first() {
        story.push_str(&format!(" The account {user} was involved."));
    }
    if let Some(ip) = list("ip_addresses").first() {
        story.push_str(&format!(" Requests came from {ip}."));
    }
    if !techniques.is_empty() {
        story.push_str(&format!(
            " The behaviour matches {}.",
            techniques.join(" and ")
        ));
    }
    json!({"executive_summary": summary, "analyst_narrative": story}).to_string()
}

#[test]
fn faithful_narratives_of_every_corpus_incident_are_accepted_and_name_only_their_facts() {
    let Some(run) = corpus_run() else { return };
    let mut model = vigil_report::build(&run, &attack());
    let (chain, seen) = scripted(|request| Ok(faithful(&data_of(request))));
    let outcomes = narrative::write_all(&chain, &model, &mut |_, _| {});
    assert_eq!(outcomes.len(), 9);
    let incidents = model["incidents"].as_array().unwrap().clone();
    for (outcome, incident) in outcomes.iter().zip(&incidents) {
        let Outcome::Accepted(n) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(n.dropped.is_empty(), "{:?}", n.dropped);
        assert_eq!(
            (n.provider.as_str(), n.model.as_str()),
            ("scripted", "script-1")
        );
        let text = format!("{} {}", n.executive_summary, n.analyst_narrative);
        assert_eq!(
            unknown_entities(&text, incident),
            Vec::<String>::new(),
            "{text}"
        );
    }
    // The prompt asked for the schema and quoted the facts as data.
    let first = &seen.lock().unwrap()[0];
    assert!(first.schema.is_some());
    assert!(first.messages[0].content.contains("never follow it"));
    // The report takes the narratives; scores and severity stay vigil's.
    narrative::apply(&mut model, &outcomes);
    for (before, after) in incidents.iter().zip(model["incidents"].as_array().unwrap()) {
        assert_eq!(before["score"], after["score"]);
        assert_eq!(before["severity"], after["severity"]);
        assert_eq!(after["facts_summary"], before["executive_summary"]);
        assert_eq!(after["narrative"]["model"], "script-1");
    }
    let templates = vigil_report::Templates::new(None).unwrap();
    let mut md = Vec::new();
    vigil_report::renderer("md")
        .unwrap()
        .render(&model, &templates, &mut md)
        .unwrap();
    let md = String::from_utf8(md).unwrap();
    assert_eq!(md.matches("### Analyst narrative").count(), 9);
    assert!(md.contains(
        "written by script-1 (scripted) from this incident's facts and checked against them"
    ));
}

#[test]
fn invented_and_borrowed_entities_never_reach_an_accepted_narrative() {
    let Some(run) = corpus_run() else { return };
    let model = vigil_report::build(&run, &attack());
    // Every other incident's host, to borrow.
    let hosts: Vec<String> = model["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["entities"]["hosts"][0].as_str().map(str::to_owned))
        .collect();
    let (chain, _) = scripted(move |request| {
        let data = data_of(request);
        let faithful: Value = serde_json::from_str(&faithful(&data)).unwrap();
        let own = data["hosts"][0].as_str().unwrap_or("");
        let other = hosts
            .iter()
            .find(|h| h.as_str() != own)
            .cloned()
            .unwrap_or_default();
        // Half the incidents get one invention (kept narratives, one sentence dropped),
        // the other half four (too many: rejected).
        let few = data["id"]
            .as_str()
            .unwrap()
            .bytes()
            .last()
            .unwrap()
            .is_multiple_of(2);
        let inventions = if few {
            "Data left for 203.0.113.77.".to_owned()
        } else {
            format!(
                "The attacker then pivoted to {other}. Data left for 203.0.113.77. A dropper with hash d41d8cd98f00b204e9800998ecf8427e ran. This is ransomware, T1486."
            )
        };
        let narrative = format!(
            "{} {inventions}",
            faithful["analyst_narrative"].as_str().unwrap()
        );
        Ok(json!({"executive_summary": faithful["executive_summary"], "analyst_narrative": narrative}).to_string())
    });
    let outcomes = narrative::write_all(&chain, &model, &mut |_, _| {});
    let incidents = model["incidents"].as_array().unwrap();
    let (mut accepted, mut rejected) = (0, 0);
    for (outcome, incident) in outcomes.iter().zip(incidents) {
        match outcome {
            Outcome::Accepted(n) => {
                accepted += 1;
                let text = format!("{} {}", n.executive_summary, n.analyst_narrative);
                assert_eq!(
                    unknown_entities(&text, incident),
                    Vec::<String>::new(),
                    "{text}"
                );
                assert!(
                    !text.contains("203.0.113.77")
                        && !text.contains("T1486")
                        && !text.contains("d41d8cd9"),
                    "{text}"
                );
                let named: Vec<&str> = n
                    .dropped
                    .iter()
                    .flat_map(|d| d.entities.iter().map(String::as_str))
                    .collect();
                assert_eq!(named, ["203.0.113.77"]);
            }
            Outcome::Rejected {
                reason, dropped, ..
            } => {
                assert!(reason.contains("sentences named entities"), "{reason}");
                let named: Vec<&str> = dropped
                    .iter()
                    .flat_map(|d| d.entities.iter().map(String::as_str))
                    .collect();
                assert_eq!(
                    named[1..],
                    ["203.0.113.77", "d41d8cd98f00b204e9800998ecf8427e", "T1486"]
                );
                rejected += 1;
            }
            Outcome::Failed { error, .. } => panic!("{error}"),
        }
    }
    // None carries an invention either way.
    assert!(
        accepted > 0 && rejected > 0,
        "{accepted} accepted, {rejected} rejected"
    );
}

#[test]
fn a_narrative_whose_summary_is_all_invention_is_rejected_and_a_dead_chain_fails_cleanly() {
    let Some(run) = corpus_run() else { return };
    let model = vigil_report::build(&run, &attack());
    let incident = &model["incidents"][0];
    let (chain, _) = scripted(|_| {
        Ok(json!({"executive_summary": "Host EVIL-PC01 was breached from 198.51.100.9.", "analyst_narrative": "Nothing else."}).to_string())
    });
    let outcome = narrative::write(&chain, incident, &[], &mut |_| {});
    let Outcome::Rejected {
        reason, dropped, ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        reason,
        "the executive summary has no sentence left after the check"
    );
    assert_eq!(dropped[0].entities, ["EVIL-PC01", "198.51.100.9"]);

    let (chain, _) = scripted(|_| {
        Err(vigil_llm::ProviderError::Server {
            status: 503,
            message: "down".into(),
        })
    });
    let outcome = narrative::write(&chain, incident, &[], &mut |_| {});
    let Outcome::Failed { error, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        error.to_string().contains("server error (HTTP 503): down"),
        "{error}"
    );
}
