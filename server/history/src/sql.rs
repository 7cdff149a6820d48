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
    Text(std::borrow::Cow<'a, str>),
    /// The page size.
    Limit(i64),
}

/// Which database a query is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite: `?1` placeholders, `GLOB` patterns.
    Sqlite,
    /// PostgreSQL: `$1` placeholders, `LIKE` patterns.
    Postgres,
}

impl Dialect {
    fn placeholder(self) -> char {
        match self {
            Dialect::Sqlite => '?',
            Dialect::Postgres => '$',
        }
    }

    /// The condition that `workflow` matches a `*` pattern, without a
    /// placeholder, and the pattern in this database's syntax. Both match
    /// case-sensitively, every character but `*` literally.
    fn pattern(self, pattern: &str) -> (&'static str, String) {
        let mut translated = String::with_capacity(pattern.len());
        for c in pattern.chars() {
            match (self, c) {
                (Dialect::Sqlite, '?') => translated.push_str("[?]"),
                (Dialect::Sqlite, '[') => translated.push_str("[[]"),
                (Dialect::Postgres, '*') => translated.push('%'),
                (Dialect::Postgres, '%' | '_' | '\\') => {
                    translated.push('\\');
                    translated.push(c);
                }
                _ => translated.push(c),
            }
        }
        match self {
            Dialect::Sqlite => ("workflow GLOB", translated),
            Dialect::Postgres => ("workflow LIKE", translated),
        }
    }
}

/// The query for `filter` in `dialect`, with numbered placeholders, and the
/// values to bind, in order.
pub(crate) fn list_query<'a>(filter: &'a RunFilter, dialect: Dialect) -> (String, Vec<Bound<'a>>) {
    let prefix = dialect.placeholder();
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    let mut placeholder = |value: Bound<'a>| {
        values.push(value);
        format!("{prefix}{}", values.len())
    };
    if let Some(workflow) = &filter.workflow {
        conditions.push(format!("workflow = {}", placeholder(Bound::Text(workflow.into()))));
    }
    if let Some(status) = filter.status {
        conditions.push(format!("status = {}", placeholder(Bound::Text(status.as_str().into()))));
    }
    if let Some(before) = &filter.before {
        conditions.push(format!("id < {}", placeholder(Bound::Text(before.into()))));
    }
    if let Some(patterns) = &filter.workflows {
        let escape = if dialect == Dialect::Postgres {
            " ESCAPE '\\'"
        } else {
            ""
        };
        let alternatives: Vec<String> = patterns
            .iter()
            .map(|pattern| {
                let (condition, translated) = dialect.pattern(pattern);
                format!("{condition} {}{escape}", placeholder(Bound::Text(translated.into())))
            })
            .collect();
        conditions.push(match alternatives.is_empty() {
            true => "1 = 0".to_string(),
            false => format!("({})", alternatives.join(" OR ")),
        });
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let limit = placeholder(Bound::Limit(i64::from(filter.page_size())));
    let sql = format!("SELECT {COLUMNS} FROM runs {filter_sql} ORDER BY id DESC LIMIT {limit}");
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
            workflows: None,
        };
        let (sql, values) = list_query(&filter, Dialect::Postgres);
        assert!(
            sql.ends_with("WHERE workflow = $1 AND status = $2 ORDER BY id DESC LIMIT $3"),
            "{sql}"
        );
        assert_eq!(values.len(), 3);
        let (plain, _) = list_query(&RunFilter::default(), Dialect::Sqlite);
        assert!(plain.ends_with("FROM runs  ORDER BY id DESC LIMIT ?1"), "{plain}");
    }
}
