//! Workspace labels and the rule that turns a conversation's requested label titles into
//! label ids.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;
use crate::ids::LabelId;
use crate::values::{LabelColor, LabelTitle};

/// A label agents put on conversations ("billing", "vip").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Identity; conversations refer to labels by id, so a rename shows everywhere.
    pub id: LabelId,
    /// Unique in the workspace, ignoring case.
    pub title: LabelTitle,
    /// Display colour.
    pub color: Option<LabelColor>,
    /// Creation time.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub created_at: DateTime<Utc>,
}

/// What a label update changes: only the fields it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelChanges {
    /// New title (unique, ignoring case).
    pub title: Option<LabelTitle>,
    /// New colour; `Some(None)` removes it.
    pub color: Option<Option<LabelColor>>,
}

impl LabelChanges {
    /// Applies the named fields to `label`.
    pub fn apply(&self, label: &mut Label) {
        if let Some(title) = &self.title {
            label.title = title.clone();
        }
        if let Some(color) = &self.color {
            label.color = color.clone();
        }
    }
}

/// The ids of the labels titled `titles` (ignoring case), as a set in id order.
///
/// A title that names no label is refused, all of them named in one error, so a typo
/// never drops a label silently.
pub fn resolve_titles(labels: &[Label], titles: &[String]) -> Result<Vec<LabelId>, InvalidInput> {
    let mut ids = BTreeSet::new();
    let mut unknown = Vec::new();
    for title in titles {
        let key = title.trim().to_lowercase();
        match labels.iter().find(|label| label.title.key() == key) {
            Some(label) => {
                ids.insert(label.id);
            }
            None => unknown.push(title.as_str()),
        }
    }
    if !unknown.is_empty() {
        let problem = format!("no such label: {}", unknown.join(", "));
        return Err(InvalidInput::new("labels", problem));
    }
    Ok(ids.into_iter().collect())
}

/// The labels among `labels` whose ids are in `ids`, in title order (ids of deleted labels
/// are skipped).
pub fn labels_of(labels: &[Label], ids: &[LabelId]) -> Vec<Label> {
    let mut found: Vec<Label> = labels
        .iter()
        .filter(|l| ids.contains(&l.id))
        .cloned()
        .collect();
    found.sort_by_key(|label| label.title.key());
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(title: &str) -> Label {
        Label {
            id: LabelId::new(),
            title: LabelTitle::parse(title).unwrap(),
            color: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn titles_resolve_ignoring_case_and_duplicates() {
        let labels = [label("Billing"), label("VIP")];
        let ids = resolve_titles(&labels, &["vip".into(), " BILLING ".into(), "Vip".into()]);
        let mut expected = vec![labels[0].id, labels[1].id];
        expected.sort();
        assert_eq!(ids.unwrap(), expected);
    }

    #[test]
    fn an_unknown_title_is_refused_by_name() {
        let labels = [label("Billing")];
        let error = resolve_titles(&labels, &["billing".into(), "bug".into()]).unwrap_err();
        assert_eq!(error.field, "labels");
        assert!(error.problem.contains("bug"), "{}", error.problem);
    }

    #[test]
    fn deleted_labels_are_skipped_and_the_rest_sorted_by_title() {
        let labels = [label("zeta"), label("Alpha")];
        let gone = LabelId::new();
        let shown = labels_of(&labels, &[labels[0].id, gone, labels[1].id]);
        let titles: Vec<&str> = shown.iter().map(|l| l.title.as_str()).collect();
        assert_eq!(titles, ["Alpha", "zeta"]);
    }
}
