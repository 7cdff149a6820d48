//! The SQL both stores share: the table, its columns in the order rows are
//! read, every statement they run ([`Statements`], written once, with the
//! placeholders of each [`Dialect`]) and the filter of a run list.

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

/// Every statement a store runs but the run list's (built per filter by
/// [`list_query`]), in its database's placeholder style. Each is written
/// once, with `$N` placeholders; [`Statements::new`] spells them for a
/// dialect.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// Inserts a queued run unless its idempotency key is taken:
    /// id, workflow, input, definition, idempotency key, created at.
    pub create: String,
    /// The run holding an idempotency key: the key.
    pub by_idempotency_key: String,
    /// Marks a queued or running run running, keeping its first start:
    /// id, started at.
    pub start: String,
    /// Ends a queued or running run: id, status, output, error, timeline,
    /// finished at.
    pub finish: String,
    /// One run: its id.
    pub get: String,
    /// The queued and running runs, oldest first.
    pub unfinished: String,
    /// Deletes the runs that finished before: a time.
    pub prune: String,
}

impl Statements {
    /// The statements in `dialect`'s placeholder style.
    pub(crate) fn new(dialect: Dialect) -> Statements {
        let spell = |sql: String| dialect.spell(&sql);
        Statements {
            create: spell(
                "INSERT INTO runs (id, workflow, status, input, definition, idempotency_key, created_ms) \
                 VALUES ($1, $2, 'queued', $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING"
                    .to_string(),
            ),
            by_idempotency_key: spell(format!("SELECT {COLUMNS} FROM runs WHERE idempotency_key = $1")),
            start: spell(
                "UPDATE runs SET status = 'running', started_ms = COALESCE(started_ms, $2) \
                 WHERE id = $1 AND status IN ('queued', 'running')"
                    .to_string(),
            ),
            finish: spell(
                "UPDATE runs SET status = $2, output = $3, error = $4, timeline = $5, finished_ms = $6 \
                 WHERE id = $1 AND status IN ('queued', 'running')"
                    .to_string(),
            ),
            get: spell(format!("SELECT {COLUMNS} FROM runs WHERE id = $1")),
            unfinished: format!("SELECT {COLUMNS} FROM runs WHERE status IN ('queued', 'running') ORDER BY id"),
            prune: spell("DELETE FROM runs WHERE finished_ms < $1".to_string()),
        }
    }
}

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
    /// What starts a numbered placeholder: `?1` in SQLite, `$1` in PostgreSQL.
    fn placeholder(self) -> char {
        match self {
            Dialect::Sqlite => '?',
            Dialect::Postgres => '$',
        }
    }

    /// `sql`, written with `$N` placeholders (and no other `$`), with this
    /// database's.
    fn spell(self, sql: &str) -> String {
        sql.replace('$', &self.placeholder().to_string())
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

    #[test]
    fn each_statement_is_spelled_in_its_dialects_placeholders() {
        let (sqlite, postgres) = (Statements::new(Dialect::Sqlite), Statements::new(Dialect::Postgres));
        assert!(
            sqlite.finish.contains("status = ?2") && sqlite.finish.contains("WHERE id = ?1"),
            "{}",
            sqlite.finish
        );
        assert!(
            postgres.finish.contains("status = $2") && postgres.finish.contains("WHERE id = $1"),
            "{}",
            postgres.finish
        );
        for sql in [
            &sqlite.create,
            &sqlite.start,
            &sqlite.get,
            &sqlite.prune,
            &sqlite.by_idempotency_key,
        ] {
            assert!(!sql.contains('$'), "{sql}");
        }
        assert_eq!(sqlite.unfinished, postgres.unfinished);
    }
}
