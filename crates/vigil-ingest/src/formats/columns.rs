//! Named columns of tabular formats (CSV, Zeek TSV): a row's values become fields in header
//! order, values of a repeated name gather into a list, all in time linear in the row, so a
//! hostile row of millions of cells costs no more than reading it.

use std::collections::HashMap;

use vigil_event::{FieldName, Fields, Value};

/// The columns of a header, with repeated names folded together.
pub(crate) struct Columns {
    /// The distinct names, in order of first appearance.
    names: Vec<FieldName>,
    /// For each column, the index of its name in `names`.
    slot_of: Vec<usize>,
    by_name: HashMap<FieldName, usize>,
}

impl Columns {
    pub(crate) fn new(columns: impl IntoIterator<Item = FieldName>) -> Self {
        let mut names = Vec::new();
        let mut slot_of = Vec::new();
        let mut by_name = HashMap::new();
        for name in columns {
            let slot = *by_name.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                names.len() - 1
            });
            slot_of.push(slot);
        }
        Columns {
            names,
            slot_of,
            by_name,
        }
    }

    /// How many columns the header has.
    pub(crate) fn len(&self) -> usize {
        self.slot_of.len()
    }

    /// The name of column `index`.
    pub(crate) fn name(&self, index: usize) -> Option<&FieldName> {
        self.names.get(*self.slot_of.get(index)?)
    }

    /// The names, each once, in order of first appearance.
    pub(crate) fn names(&self) -> &[FieldName] {
        &self.names
    }

    /// An empty row to fill.
    pub(crate) fn row(&self) -> Row<'_> {
        Row {
            columns: self,
            slots: vec![None; self.names.len()],
            extra: Vec::new(),
        }
    }
}

/// The values of one row, gathered by name.
pub(crate) struct Row<'c> {
    columns: &'c Columns,
    slots: Vec<Option<Value>>,
    extra: Vec<(FieldName, Value)>,
}

impl Row<'_> {
    /// Sets the value of column `index`; a column beyond the header is ignored.
    pub(crate) fn set(&mut self, index: usize, value: Value) {
        if let Some(&slot) = self.columns.slot_of.get(index) {
            self.add(slot, value);
        }
    }

    /// Sets a value under a name that is not a column of the header (a cell beyond it);
    /// when the header has that name after all, the value joins that column's. Names given
    /// here must differ from each other.
    pub(crate) fn set_extra(&mut self, name: FieldName, value: Value) {
        match self.columns.by_name.get(&name) {
            Some(&slot) => self.add(slot, value),
            None => self.extra.push((name, value)),
        }
    }

    fn add(&mut self, slot: usize, value: Value) {
        let Some(held) = self.slots.get_mut(slot) else {
            return;
        };
        *held = Some(match held.take() {
            None => value,
            Some(Value::List(mut items)) => {
                items.push(value);
                Value::List(items)
            }
            Some(first) => Value::List(vec![first, value]),
        });
    }

    /// The fields: the header's names in order, then the extra ones.
    pub(crate) fn into_fields(self) -> Fields {
        let mut fields = Fields::with_capacity(self.slots.len() + self.extra.len());
        for (name, value) in self.columns.names.iter().zip(self.slots) {
            if let Some(value) = value {
                fields.push(name.clone(), value);
            }
        }
        for (name, value) in self.extra {
            fields.push(name, value);
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_gather_into_lists_in_the_order_set() {
        let columns = Columns::new(["a", "b", "a", "a"].map(FieldName::from));
        assert_eq!(columns.len(), 4);
        assert_eq!(columns.name(2).map(|n| n.as_str()), Some("a"));
        let mut row = columns.row();
        row.set(3, Value::Int(3));
        row.set(1, Value::Int(1));
        row.set(0, Value::Int(0));
        row.set(2, Value::Int(2));
        row.set(9, Value::Int(9));
        row.set_extra("column5".into(), Value::Int(5));
        row.set_extra("b".into(), Value::Int(6));
        let fields = row.into_fields();
        let got: Vec<_> = fields.iter().map(|(n, v)| (n, v.clone())).collect();
        assert_eq!(
            got,
            [
                (
                    "a",
                    Value::List(vec![Value::Int(3), Value::Int(0), Value::Int(2)])
                ),
                ("b", Value::List(vec![Value::Int(1), Value::Int(6)])),
                ("column5", Value::Int(5)),
            ]
        );
    }

    #[test]
    fn a_huge_row_is_linear() {
        let columns = Columns::new(std::iter::repeat_n(FieldName::from("x"), 100_000));
        let mut row = columns.row();
        for i in 0..100_000 {
            row.set(i, Value::Int(1));
            row.set_extra(format!("column{}", 100_001 + i).into(), Value::Int(2));
        }
        let fields = row.into_fields();
        assert_eq!(fields.len(), 100_001);
        assert_eq!(fields.get("x").map(|v| v.items().len()), Some(100_000));
    }
}
