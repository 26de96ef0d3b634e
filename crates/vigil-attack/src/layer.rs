//! ATT&CK Navigator layers: the JSON file the Navigator opens to colour and annotate the
//! technique matrix.
//!
//! The types follow the layer file format version 4.5, as the Navigator documents it in
//! `layers/spec/v4.5/layerformat.md` of mitre-attack/attack-navigator. Field names are the
//! format's (camel case, `techniqueID`, `showID`, `customDataURL`); optional fields that are
//! not set are left out of the JSON, so the Navigator applies its documented defaults.

use serde::{Deserialize, Serialize};

use crate::kb::Attack;

/// The layer file format version these types write (`versions.layer`).
pub const LAYER_FORMAT_VERSION: &str = "4.5";

/// The Navigator version written in `versions.navigator`: the newest release that writes
/// layer format 4.5 when this was written, and the one the format's documentation names in
/// its example (the format requires at least 4.9.0).
pub const NAVIGATOR_VERSION: &str = "5.1.0";

/// The domains a layer may name.
pub const DOMAINS: [&str; 3] = ["enterprise-attack", "mobile-attack", "ics-attack"];

/// One ATT&CK Navigator layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    /// The layer's name (required).
    pub name: String,
    /// The ATT&CK, Navigator and layer format versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Versions>,
    /// `enterprise-attack`, `mobile-attack` or `ics-attack` (required).
    pub domain: String,
    /// Free text about the layer's contents or intent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The URL of the custom collection or STIX bundle the layer was built from.
    #[serde(
        rename = "customDataURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_data_url: Option<String>,
    /// Which platforms' techniques to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
    /// How techniques are ordered within a tactic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorting: Option<Sorting>,
    /// How the matrix is drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
    /// Whether disabled techniques are left out of the view (rather than greyed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_disabled: Option<bool>,
    /// The annotated techniques.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<LayerTechnique>,
    /// The colour scale scores are drawn with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient: Option<Gradient>,
    /// The legend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legend_items: Vec<LegendItem>,
    /// Name-value pairs (and dividers) about the layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<Metadata>,
    /// Links (and dividers) about the layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Whether tactic headers take the `tacticRowBackground` colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_tactic_row_background: Option<bool>,
    /// The tactic header colour (`#dddddd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tactic_row_background: Option<String>,
    /// Whether selecting a technique selects it under every tactic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_techniques_across_tactics: Option<bool>,
    /// Whether selecting a technique selects its sub-techniques.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_subtechniques_with_parent: Option<bool>,
    /// Whether hidden techniques are left out of a selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_visible_techniques: Option<bool>,
}

impl Layer {
    /// An empty layer for a knowledge base's domain and release: `versions` names the
    /// release's major version (the Navigator reads only the leading number), this
    /// format version and [`NAVIGATOR_VERSION`].
    pub fn new(name: impl Into<String>, attack: &Attack) -> Layer {
        let domain = match attack.meta().domain.as_str() {
            "" => DOMAINS[0].to_string(),
            domain => domain.to_string(),
        };
        Layer {
            name: name.into(),
            versions: Some(Versions {
                attack: attack.version().map(major_version),
                navigator: NAVIGATOR_VERSION.to_string(),
                layer: LAYER_FORMAT_VERSION.to_string(),
            }),
            domain,
            description: String::new(),
            custom_data_url: None,
            filters: None,
            sorting: None,
            layout: None,
            hide_disabled: None,
            techniques: Vec::new(),
            gradient: None,
            legend_items: Vec::new(),
            metadata: Vec::new(),
            links: Vec::new(),
            show_tactic_row_background: None,
            tactic_row_background: None,
            select_techniques_across_tactics: None,
            select_subtechniques_with_parent: None,
            select_visible_techniques: None,
        }
    }
}

/// `18` for `18.1`: layers name ATT&CK releases by major version.
fn major_version(version: &str) -> String {
    version.split('.').next().unwrap_or(version).to_string()
}

/// The versions a layer was written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    /// The ATT&CK major version (`18`); the Navigator's current one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack: Option<String>,
    /// The Navigator version (at least `4.9.0` for layer format 4.5).
    pub navigator: String,
    /// The layer format version (`4.5`).
    pub layer: String,
}

/// Which techniques the view shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// Only techniques of these platforms (`Windows`, `Linux`, ...); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Vec<String>>,
}

/// How techniques are ordered within a tactic; written as the format's number 0 to 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Sorting {
    /// By name, A to Z (0, the default).
    NameAscending,
    /// By name, Z to A (1).
    NameDescending,
    /// By score, lowest first (2).
    ScoreAscending,
    /// By score, highest first (3).
    ScoreDescending,
}

impl From<Sorting> for u8 {
    fn from(sorting: Sorting) -> u8 {
        match sorting {
            Sorting::NameAscending => 0,
            Sorting::NameDescending => 1,
            Sorting::ScoreAscending => 2,
            Sorting::ScoreDescending => 3,
        }
    }
}

impl TryFrom<u8> for Sorting {
    type Error = String;

    fn try_from(value: u8) -> Result<Sorting, String> {
        Ok(match value {
            0 => Sorting::NameAscending,
            1 => Sorting::NameDescending,
            2 => Sorting::ScoreAscending,
            3 => Sorting::ScoreDescending,
            other => return Err(format!("sorting must be 0 to 3, not {other}")),
        })
    }
}

/// How the matrix is drawn.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// `side` (the default), `flat` or `mini`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<LayoutKind>,
    /// Whether ATT&CK ids are shown.
    #[serde(rename = "showID", default, skip_serializing_if = "Option::is_none")]
    pub show_id: Option<bool>,
    /// Whether names are shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_name: Option<bool>,
    /// Whether a technique shows the aggregate score of it and its sub-techniques.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_aggregate_scores: Option<bool>,
    /// Whether unscored techniques count in aggregate scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_unscored: Option<bool>,
    /// How aggregate scores are computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_function: Option<AggregateFunction>,
    /// Which sub-techniques are expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expanded_subtechniques: Option<ExpandedSubtechniques>,
}

/// The matrix layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutKind {
    /// Sub-techniques beside their technique.
    Side,
    /// Sub-techniques below their technique.
    Flat,
    /// Small cells without names.
    Mini,
}

/// How a technique's aggregate score is computed from it and its sub-techniques.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AggregateFunction {
    /// The mean.
    Average,
    /// The lowest.
    Min,
    /// The highest.
    Max,
    /// The sum.
    Sum,
}

/// Which sub-techniques the view expands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpandedSubtechniques {
    /// None (those with `showSubtechniques` aside).
    None,
    /// All.
    All,
    /// Those of annotated techniques.
    Annotated,
}

/// One technique (or sub-technique) of a layer, under one tactic or under all of its
/// tactics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerTechnique {
    /// `T1003` or `T1003.001` (required).
    #[serde(rename = "techniqueID")]
    pub technique_id: String,
    /// The tactic's short name (`credential-access`); without it, the annotation applies
    /// under every tactic of the technique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tactic: Option<String>,
    /// The score the gradient colours; unscored when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// An explicit colour (`#rrggbb`), overriding the score's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Free text shown on hover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Whether the technique is enabled (the default) or greyed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Name-value pairs (and dividers) about the technique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<Metadata>,
    /// Links (and dividers) about the technique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Whether its sub-techniques are shown by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_subtechniques: Option<bool>,
}

/// The colour scale scores are drawn with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gradient {
    /// At least two `#rrggbb` colours, from `minValue` to `maxValue`.
    pub colors: Vec<String>,
    /// The score of the first colour.
    pub min_value: f64,
    /// The score of the last colour; must be greater than `minValue`.
    pub max_value: f64,
}

/// One entry of the legend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegendItem {
    /// The text.
    pub label: String,
    /// Its colour (`#rrggbb`).
    pub color: String,
}

/// A name-value pair, or a divider between groups of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Metadata {
    /// A name and its value.
    Entry {
        /// The name.
        name: String,
        /// The value.
        value: String,
    },
    /// A horizontal rule.
    Divider {
        /// Whether the rule is drawn.
        divider: bool,
    },
}

impl Metadata {
    /// A name-value pair.
    pub fn entry(name: impl Into<String>, value: impl Into<String>) -> Metadata {
        Metadata::Entry {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A hyperlink, or a divider between groups of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Link {
    /// A labelled URL.
    Url {
        /// The text.
        label: String,
        /// The target, with its scheme (`https://`).
        url: String,
    },
    /// A horizontal rule.
    Divider {
        /// Whether the rule is drawn.
        divider: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_optional_fields_are_left_out() {
        let layer = Layer {
            versions: None,
            ..Layer::new("x", &Attack::embedded().expect("embedded table"))
        };
        let json = serde_json::to_value(&layer).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"name": "x", "domain": "enterprise-attack"})
        );
    }

    #[test]
    fn field_names_follow_the_format() {
        let technique = LayerTechnique {
            technique_id: "T1003.001".into(),
            tactic: Some("credential-access".into()),
            score: Some(2.0),
            show_subtechniques: Some(false),
            metadata: vec![
                Metadata::entry("a", "b"),
                Metadata::Divider { divider: true },
            ],
            ..LayerTechnique::default()
        };
        let layout = Layout {
            layout: Some(LayoutKind::Side),
            show_id: Some(true),
            aggregate_function: Some(AggregateFunction::Sum),
            expanded_subtechniques: Some(ExpandedSubtechniques::Annotated),
            ..Layout::default()
        };
        assert_eq!(
            serde_json::to_value(&technique).expect("serializes"),
            serde_json::json!({
                "techniqueID": "T1003.001",
                "tactic": "credential-access",
                "score": 2.0,
                "metadata": [{"name": "a", "value": "b"}, {"divider": true}],
                "showSubtechniques": false,
            })
        );
        assert_eq!(
            serde_json::to_value(&layout).expect("serializes"),
            serde_json::json!({
                "layout": "side",
                "showID": true,
                "aggregateFunction": "sum",
                "expandedSubtechniques": "annotated",
            })
        );
    }

    #[test]
    fn sorting_is_a_number() {
        assert_eq!(
            serde_json::to_string(&Sorting::ScoreDescending).expect("serializes"),
            "3"
        );
        assert_eq!(
            serde_json::from_str::<Sorting>("1").expect("parses"),
            Sorting::NameDescending
        );
        assert!(serde_json::from_str::<Sorting>("4").is_err());
    }

    #[test]
    fn versions_name_the_major_release() {
        let attack = Attack::embedded().expect("embedded table");
        let versions = Layer::new("x", &attack).versions.expect("set");
        let major = attack.version().expect("known").split('.').next();
        assert_eq!(versions.attack.as_deref(), major);
        assert_eq!(versions.layer, "4.5");
    }
}
