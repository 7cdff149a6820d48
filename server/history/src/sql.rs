//! The SQL both stores share: the table, its columns in the order rows are
//! read, and the filter of a run list.

use crate::RunFilter;

/// The table and its indexes (`BIGINT` is an integer in SQLite too).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    definition TEXT,
    idempotency_key TEXT UNIQUE,
    output TEXT,
    error TEXT,
    timeline TEXT,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    finished_ms BIGINT
);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs (workflow, id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, id);
CREATE INDEX IF NOT EXISTS runs_by_finish ON runs (finished_ms);
";

/// The columns every query selects, in the order rows are read.
pub(crate) const COLUMNS: &str = "id, workflow, status, input, definition, idempotency_key, output, error, timeline, \
                                  created_ms, started_ms, finished_ms";

/// A value a list query binds.
pub(crate) enum Bound<'a> {
    /// Text.
    Text(&'a str),
    /// The page size.
    Limit(i64),
}

/// The query for `filter` with numbered placeholders (`?1` or `$1`, by
/// `prefix`), and the values to bind, in order.
pub(crate) fn list_query<'a>(filter: &'a RunFilter, prefix: char) -> (String, Vec<Bound<'a>>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    let mut bind = |condition: &str, value: Bound<'a>| {
        values.push(value);
        conditions.push(format!("{condition} {prefix}{}", values.len()));
    };
    if let Some(workflow) = &filter.workflow {
        bind("workflow =", Bound::Text(workflow));
    }
    if let Some(status) = filter.status {
        bind("status =", Bound::Text(status.as_str()));
    }
    if let Some(before) = &filter.before {
        bind("id <", Bound::Text(before));
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    values.push(Bound::Limit(i64::from(filter.page_size())));
    let sql = format!(
        "SELECT {COLUMNS} FROM runs {filter_sql} ORDER BY id DESC LIMIT {prefix}{}",
        values.len()
    );
    (sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunStatus;

    #[test]
    fn filters_number_their_placeholders_in_binding_order() {
        let filter = RunFilter {
            workflow: Some("w".into()),
            status: Some(RunStatus::Failed),
            before: None,
            limit: 5,
        };
        let (sql, values) = list_query(&filter, '$');
        assert!(
            sql.ends_with("WHERE workflow = $1 AND status = $2 ORDER BY id DESC LIMIT $3"),
            "{sql}"
        );
        assert_eq!(values.len(), 3);
        let (plain, _) = list_query(&RunFilter::default(), '?');
        assert!(plain.ends_with("FROM runs  ORDER BY id DESC LIMIT ?1"), "{plain}");
    }
}
