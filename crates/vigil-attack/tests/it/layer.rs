//! Navigator layers built from real coverage validate against the layer file format.
//!
//! The checker below encodes the ATT&CK Navigator's layer file format version 4.5, as
//! documented in `layers/spec/v4.5/layerformat.md` of mitre-attack/attack-navigator
//! (property tables for the layer, Version, Filter, Layout, Technique, Gradient,
//! LegendItem, Metadata, Link and Divider objects). The Navigator publishes no JSON schema
//! for layers, so the tables are encoded here by hand: each field's name, JSON type and
//! whether it is required, the allowed values of the enumerated fields, and no keys beyond
//! the documented ones. A second pass checks the layer against the loaded ATT&CK release.

use serde_json::{Map, Value};
use vigil_attack::{Attack, Coverage, Layer};

/// A JSON type the format names.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Num,
    Bool,
    StrArray,
    Object(&'static [Field]),
    ObjectArray(&'static [Field]),
    /// An array of objects of the given fields, or of Divider objects.
    ObjectOrDividerArray(&'static [Field]),
}

struct Field {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: true,
    }
}

const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
    }
}

const VERSIONS: &[Field] = &[
    opt("attack", Kind::Str),
    req("navigator", Kind::Str),
    req("layer", Kind::Str),
];
const FILTERS: &[Field] = &[opt("platforms", Kind::StrArray)];
const LAYOUT: &[Field] = &[
    opt("layout", Kind::Str),
    opt("showID", Kind::Bool),
    opt("showName", Kind::Bool),
    opt("showAggregateScores", Kind::Bool),
    opt("countUnscored", Kind::Bool),
    opt("aggregateFunction", Kind::Str),
    opt("expandedSubtechniques", Kind::Str),
];
const METADATA: &[Field] = &[req("name", Kind::Str), req("value", Kind::Str)];
const LINK: &[Field] = &[req("label", Kind::Str), req("url", Kind::Str)];
const DIVIDER: &[Field] = &[req("divider", Kind::Bool)];
const TECHNIQUE: &[Field] = &[
    req("techniqueID", Kind::Str),
    opt("tactic", Kind::Str),
    opt("comment", Kind::Str),
    opt("enabled", Kind::Bool),
    opt("score", Kind::Num),
    opt("color", Kind::Str),
    opt("metadata", Kind::ObjectOrDividerArray(METADATA)),
    opt("links", Kind::ObjectOrDividerArray(LINK)),
    opt("showSubtechniques", Kind::Bool),
];
const GRADIENT: &[Field] = &[
    req("colors", Kind::StrArray),
    req("minValue", Kind::Num),
    req("maxValue", Kind::Num),
];
const LEGEND_ITEM: &[Field] = &[req("label", Kind::Str), req("color", Kind::Str)];
const LAYER: &[Field] = &[
    opt("versions", Kind::Object(VERSIONS)),
    req("name", Kind::Str),
    opt("description", Kind::Str),
    req("domain", Kind::Str),
    opt("customDataURL", Kind::Str),
    opt("filters", Kind::Object(FILTERS)),
    opt("sorting", Kind::Num),
    opt("layout", Kind::Object(LAYOUT)),
    opt("hideDisabled", Kind::Bool),
    opt("techniques", Kind::ObjectArray(TECHNIQUE)),
    opt("gradient", Kind::Object(GRADIENT)),
    opt("legendItems", Kind::ObjectArray(LEGEND_ITEM)),
    opt("showTacticRowBackground", Kind::Bool),
    opt("tacticRowBackground", Kind::Str),
    opt("selectTechniquesAcrossTactics", Kind::Bool),
    opt("selectSubtechniquesWithParent", Kind::Bool),
    opt("selectVisibleTechniques", Kind::Bool),
    opt("metadata", Kind::ObjectOrDividerArray(METADATA)),
    opt("links", Kind::ObjectOrDividerArray(LINK)),
];

/// Walks an object against its field table: required fields present, types right, no
/// undocumented keys.
fn walk_object(value: &Value, fields: &[Field], path: &str, errors: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        errors.push(format!("{path}: expected an object"));
        return;
    };
    for key in object.keys() {
        if !fields.iter().any(|f| f.name == key) {
            errors.push(format!("{path}.{key}: not a field of the format"));
        }
    }
    for field in fields {
        let path = format!("{path}.{}", field.name);
        match object.get(field.name) {
            None if field.required => errors.push(format!("{path}: required")),
            None => {}
            Some(value) => walk(value, field.kind, &path, errors),
        }
    }
}

fn walk(value: &Value, kind: Kind, path: &str, errors: &mut Vec<String>) {
    let ok = match kind {
        Kind::Str => value.is_string(),
        Kind::Num => value.is_number(),
        Kind::Bool => value.is_boolean(),
        Kind::StrArray => value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
        Kind::Object(fields) => {
            walk_object(value, fields, path, errors);
            true
        }
        Kind::ObjectArray(fields) | Kind::ObjectOrDividerArray(fields) => {
            let Some(items) = value.as_array() else {
                errors.push(format!("{path}: expected an array"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                let is_divider = item.get("divider").is_some();
                let fields = match kind {
                    Kind::ObjectOrDividerArray(_) if is_divider => DIVIDER,
                    _ => fields,
                };
                walk_object(item, fields, &format!("{path}[{i}]"), errors);
            }
            true
        }
    };
    if !ok {
        errors.push(format!("{path}: expected {}", kind_name(kind)));
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Str => "a string",
        Kind::Num => "a number",
        Kind::Bool => "a boolean",
        Kind::StrArray => "an array of strings",
        _ => "an object or array",
    }
}

fn is_hex_color(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|hex| hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `^T\d{4}(\.\d{3})?$`.
fn is_technique_id(id: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let Some(rest) = id.strip_prefix('T') else {
        return false;
    };
    match rest.split_once('.') {
        Some((main, sub)) => digits(main, 4) && digits(sub, 3),
        None => digits(rest, 4),
    }
}

/// `5.1.0` is at least `4.9.0`.
fn version_at_least(version: &str, minimum: [u32; 3]) -> bool {
    let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
    parts.len() == 3 && [parts[0], parts[1], parts[2]] >= minimum
}

fn string_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// Every documented rule of layer format 4.5 that does not depend on an ATT&CK release.
fn check_format(layer: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    walk_object(layer, LAYER, "$", &mut errors);
    if !errors.is_empty() {
        return errors;
    }
    let mut fail = |message: String| errors.push(message);
    let domain = string_at(layer, "/domain").unwrap_or_default();
    if !["enterprise-attack", "mobile-attack", "ics-attack"].contains(&domain) {
        fail(format!("$.domain: {domain:?} is not a documented domain"));
    }
    if layer.get("versions").is_some() {
        if string_at(layer, "/versions/layer") != Some("4.5") {
            fail("$.versions.layer: must be \"4.5\"".into());
        }
        let navigator = string_at(layer, "/versions/navigator").unwrap_or_default();
        if !version_at_least(navigator, [4, 9, 0]) {
            fail(format!(
                "$.versions.navigator: {navigator:?} is not at least 4.9.0"
            ));
        }
        if let Some(attack) = string_at(layer, "/versions/attack")
            && (attack.is_empty() || !attack.chars().all(|c| c.is_ascii_digit() || c == '.'))
        {
            fail(format!("$.versions.attack: {attack:?} is not a version"));
        }
    }
    if let Some(sorting) = layer.get("sorting")
        && sorting.as_u64().is_none_or(|s| s > 3)
    {
        fail(format!("$.sorting: {sorting} is not 0, 1, 2 or 3"));
    }
    for (pointer, allowed) in [
        ("/layout/layout", &["side", "flat", "mini"][..]),
        (
            "/layout/aggregateFunction",
            &["average", "min", "max", "sum"],
        ),
        (
            "/layout/expandedSubtechniques",
            &["none", "all", "annotated"],
        ),
    ] {
        if let Some(value) = string_at(layer, pointer)
            && !allowed.contains(&value)
        {
            fail(format!("${pointer}: {value:?} is not one of {allowed:?}"));
        }
    }
    if let Some(color) = string_at(layer, "/tacticRowBackground")
        && !is_hex_color(color)
    {
        fail(format!("$.tacticRowBackground: {color:?} is not #rrggbb"));
    }
    if let Some(gradient) = layer.get("gradient") {
        let colors = gradient["colors"].as_array().map(Vec::len).unwrap_or(0);
        if colors < 2 {
            fail(format!(
                "$.gradient.colors: {colors} colours, at least 2 needed"
            ));
        }
        for color in gradient["colors"].as_array().into_iter().flatten() {
            if !color.as_str().is_some_and(is_hex_color) {
                fail(format!("$.gradient.colors: {color} is not #rrggbb"));
            }
        }
        let (min, max) = (gradient["minValue"].as_f64(), gradient["maxValue"].as_f64());
        // The format says maxValue must be greater than minValue.
        if !matches!((min, max), (Some(min), Some(max)) if max > min) {
            fail(format!(
                "$.gradient: maxValue {max:?} is not above minValue {min:?}"
            ));
        }
    }
    for (i, item) in array(layer, "legendItems").iter().enumerate() {
        if !item["color"].as_str().is_some_and(is_hex_color) {
            fail(format!("$.legendItems[{i}].color: not #rrggbb"));
        }
    }
    let mut links: Vec<(String, &Value)> = array(layer, "links")
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("$.links[{i}]"), l))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for (i, technique) in array(layer, "techniques").iter().enumerate() {
        let path = format!("$.techniques[{i}]");
        let id = technique["techniqueID"].as_str().unwrap_or_default();
        if !is_technique_id(id) {
            fail(format!(
                "{path}.techniqueID: {id:?} is not T#### or T####.###"
            ));
        }
        if let Some(color) = technique.get("color").and_then(Value::as_str)
            && !color.is_empty()
            && !is_hex_color(color)
        {
            fail(format!("{path}.color: {color:?} is not #rrggbb"));
        }
        if !seen.insert((id, technique.get("tactic").and_then(Value::as_str))) {
            fail(format!(
                "{path}: a second entry for the same technique and tactic"
            ));
        }
        links.extend(
            array(technique, "links")
                .iter()
                .enumerate()
                .map(|(j, l)| (format!("{path}.links[{j}]"), l)),
        );
    }
    for (path, link) in links {
        if let Some(url) = link.get("url").and_then(Value::as_str)
            && !url.contains("://")
        {
            fail(format!("{path}.url: {url:?} has no protocol prefix"));
        }
    }
    errors
}

/// The layer against the loaded release: techniques current, tactics its short names and
/// the technique's own, `showSubtechniques` only on techniques with sub-techniques, the
/// ATT&CK version its major version, scores within the gradient.
fn check_release(layer: &Value, attack: &Attack) -> Vec<String> {
    let mut errors = Vec::new();
    let major = attack.version().and_then(|v| v.split('.').next());
    if string_at(layer, "/versions/attack") != major {
        errors.push(format!("$.versions.attack: expected {major:?}"));
    }
    if string_at(layer, "/domain") != Some(attack.meta().domain.as_str()) {
        errors.push("$.domain: not the release's domain".into());
    }
    let (min, max) = (
        layer.pointer("/gradient/minValue").and_then(Value::as_f64),
        layer.pointer("/gradient/maxValue").and_then(Value::as_f64),
    );
    for (i, entry) in array(layer, "techniques").iter().enumerate() {
        let path = format!("$.techniques[{i}]");
        let id = entry["techniqueID"].as_str().unwrap_or_default();
        let Some(technique) = attack.technique(id).filter(|t| t.status.is_active()) else {
            errors.push(format!("{path}: {id} is not a current technique"));
            continue;
        };
        if let Some(tactic) = entry.get("tactic").and_then(Value::as_str) {
            if !attack.tactics().iter().any(|t| t.shortname == tactic) {
                errors.push(format!(
                    "{path}.tactic: {tactic:?} is not a tactic short name"
                ));
            } else if !technique.tactics.iter().any(|t| t == tactic) {
                errors.push(format!("{path}.tactic: {id} does not serve {tactic}"));
            }
        }
        if entry.get("showSubtechniques") == Some(&Value::Bool(true))
            && attack.subtechniques(id).next().is_none()
        {
            errors.push(format!(
                "{path}.showSubtechniques: {id} has no sub-techniques"
            ));
        }
        if let (Some(score), Some(min), Some(max)) = (entry["score"].as_f64(), min, max)
            && !(min..=max).contains(&score)
        {
            errors.push(format!("{path}.score: {score} outside [{min}, {max}]"));
        }
    }
    errors
}

fn array<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The title and `attack.*` tags of each SigmaHQ rule in the corpus.
fn corpus_rules() -> Option<Vec<(String, Vec<String>)>> {
    let dir = vigil_test_support::corpus_path("sigma/rules")?;
    let mut rules = Vec::new();
    for path in vigil_test_support::files_with_extension(&dir, "yml") {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut title = None;
        let mut tags = Vec::new();
        let mut in_tags = false;
        for line in text.lines() {
            if !line.starts_with([' ', '\t', '-']) {
                in_tags = line.trim_end() == "tags:";
                if let Some(t) = line.strip_prefix("title:") {
                    title = Some(t.trim().trim_matches(['\'', '"']).to_string());
                }
            } else if in_tags && let Some(tag) = line.trim().strip_prefix("- ") {
                tags.push(tag.trim().to_string());
            }
        }
        let title = title.unwrap_or_else(|| path.display().to_string());
        rules.push((title, tags));
    }
    Some(rules)
}

#[test]
fn a_layer_of_the_sigmahq_rules_follows_the_format() {
    let Some(rules) = corpus_rules() else { return };
    let attack = Attack::embedded().unwrap();
    let mut coverage = Coverage::new(&attack);
    for (title, tags) in &rules {
        coverage.add_mapping(&attack.map_tags(tags), title);
    }
    let layer = coverage.layer("SigmaHQ rules", "ATT&CK techniques the SigmaHQ rules tag.");
    let json = serde_json::to_string_pretty(&layer).unwrap();
    let value: Value = serde_json::from_str(&json).unwrap();
    let errors = check_format(&value);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let errors = check_release(&value, &attack);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(serde_json::from_str::<Layer>(&json).unwrap(), layer);

    // The numbers are real: SigmaHQ covers a large part of Enterprise ATT&CK, mostly on
    // Windows, with PowerShell among the most tagged techniques.
    let totals = coverage.totals();
    assert!(rules.len() > 3000, "{} rules", rules.len());
    assert!(
        totals.techniques_covered > 150,
        "{} techniques",
        totals.techniques_covered
    );
    assert!(coverage.count("T1059.001") > 50);
    assert!(layer.techniques.len() > totals.techniques_covered);
    // A technique of several tactics is scored per tactic: a rule tagged with one of them
    // counts under that tactic only, so some techniques score differently across tactics.
    let mut scores: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for entry in &layer.techniques {
        if let Some(score) = entry.score {
            scores.entry(&entry.technique_id).or_default().push(score);
        }
    }
    assert_eq!(
        scores["T1078"].len(),
        4,
        "Valid Accounts serves four tactics"
    );
    let uneven: Vec<&str> = scores
        .iter()
        .filter(|(_, s)| s.iter().any(|x| *x != s[0]))
        .map(|(id, _)| *id)
        .collect();
    assert!(!uneven.is_empty(), "{uneven:?}");
    let summary = coverage.summary();
    assert!(
        summary.lines().all(|l| l.chars().count() <= 100),
        "{summary}"
    );
    eprintln!("{summary}");
}

#[test]
fn the_documented_example_passes_the_checker() {
    // The single-layer example of layers/spec/v4.5/layerformat.md, trimmed.
    let example = serde_json::json!({
        "name": "example layer",
        "versions": {"attack": "13", "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": "hello, world",
        "filters": {"platforms": ["Windows", "macOS"]},
        "sorting": 2,
        "layout": {"layout": "side", "showName": true, "showID": false,
                   "showAggregateScores": true, "countUnscored": true,
                   "aggregateFunction": "average", "expandedSubtechniques": "annotated"},
        "hideDisabled": false,
        "techniques": [
            {"techniqueID": "T1110", "score": 0, "color": "#fd8d3c", "comment": "c",
             "showSubtechniques": true},
            {"techniqueID": "T1110.001", "score": 100, "links": [
                {"label": "Navigator GitHub",
                 "url": "https://github.com/mitre-attack/attack-navigator"}]},
            {"techniqueID": "T1053", "tactic": "privilege-escalation", "metadata": [
                {"name": "m1", "value": "v1"}, {"divider": true}, {"name": "m2", "value": "v2"}]}
        ],
        "gradient": {"colors": ["#ff6666", "#ffe766", "#8ec843"], "minValue": 0, "maxValue": 100},
        "legendItems": [{"label": "Legend Item Label", "color": "#FF00FF"}],
        "showTacticRowBackground": true,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": false,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false,
        "metadata": [{"name": "layer metadata 1", "value": "v"}, {"divider": true}]
    });
    assert_eq!(check_format(&example), Vec::<String>::new());
    // It parses into `Layer`, and what `Layer` writes reads back the same.
    let layer: Layer = serde_json::from_value(example).unwrap();
    assert_eq!(layer.techniques.len(), 3);
    assert_eq!(layer.sorting, Some(vigil_attack::Sorting::ScoreAscending));
    let written = serde_json::to_value(&layer).unwrap();
    assert_eq!(check_format(&written), Vec::<String>::new());
    assert_eq!(serde_json::from_value::<Layer>(written).unwrap(), layer);
}

#[test]
fn the_checker_catches_what_the_format_forbids() {
    let attack = Attack::embedded().unwrap();
    let mut coverage = Coverage::new(&attack);
    coverage.add("T1003.001", None, "LSASS access", 1.0);
    let good = serde_json::to_value(coverage.layer("x", "")).unwrap();
    assert_eq!(check_format(&good), Vec::<String>::new());
    assert_eq!(check_release(&good, &attack), Vec::<String>::new());

    let broken = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut layer = good.clone();
        edit(layer.as_object_mut().unwrap());
        let mut errors = check_format(&layer);
        errors.extend(check_release(&layer, &attack));
        errors
    };
    let technique = |layer: &mut Map<String, Value>| -> Map<String, Value> {
        layer["techniques"][0].as_object().unwrap().clone()
    };
    type Edit = Box<dyn Fn(&mut Map<String, Value>)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("required", Box::new(|l| drop(l.remove("name")))),
        (
            "not a field",
            Box::new(|l| drop(l.insert("viewMode".into(), 1.into()))),
        ),
        (
            "documented domain",
            Box::new(|l| drop(l.insert("domain".into(), "enterprise".into()))),
        ),
        (
            "0, 1, 2 or 3",
            Box::new(|l| drop(l.insert("sorting".into(), 7.into()))),
        ),
        (
            "expected a boolean",
            Box::new(|l| drop(l.insert("hideDisabled".into(), "no".into()))),
        ),
        (
            "not above minValue",
            Box::new(|l| l["gradient"]["maxValue"] = 0.into()),
        ),
        (
            "#rrggbb",
            Box::new(|l| l["gradient"]["colors"][0] = "green".into()),
        ),
        (
            "must be \"4.5\"",
            Box::new(|l| l["versions"]["layer"] = "4.4".into()),
        ),
        (
            "T#### or T####.###",
            Box::new(move |l| {
                let mut t = technique(l);
                t.insert("techniqueID".into(), "T1003.1".into());
                l["techniques"][0] = t.into();
            }),
        ),
        (
            "not a tactic short name",
            Box::new(move |l| {
                let mut t = technique(l);
                t.insert("tactic".into(), "credential_access".into());
                l["techniques"][0] = t.into();
            }),
        ),
        (
            "does not serve",
            Box::new(move |l| {
                let mut t = technique(l);
                t.insert("tactic".into(), "impact".into());
                l["techniques"][0] = t.into();
            }),
        ),
        (
            "expected a number",
            Box::new(move |l| {
                let mut t = technique(l);
                t.insert("score".into(), "1".into());
                l["techniques"][0] = t.into();
            }),
        ),
        (
            "not a current technique",
            Box::new(move |l| {
                let mut t = technique(l);
                t.insert("techniqueID".into(), "T1086".into());
                l["techniques"][0] = t.into();
            }),
        ),
    ];
    for (expected, edit) in &cases {
        let errors = broken(edit.as_ref());
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "expected an error with {expected:?}, got {errors:?}"
        );
    }
}
