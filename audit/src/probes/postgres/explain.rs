//! EXPLAIN of the slowest SELECT statements, and rules applied to the plan's JSON.
//!
//! Never EXPLAIN ANALYZE: the probe does not run client statements. Normalised texts carry
//! `$n` parameters, so the plan is the generic one: `EXPLAIN (GENERIC_PLAN)` on PostgreSQL 16+,
//! and before that a prepared statement with `plan_cache_mode = force_generic_plan`, executed
//! under EXPLAIN with NULL parameters (a generic plan does not look at their values).
use std::collections::HashMap;

use serde_json::{json, Value};
use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::session::{describe, Unavailable, MARK};
use super::workload::{load_statements, parameter_count, shorten, statement_kind, Statement};
use super::Context;
use crate::findings::Severity;
use crate::probes::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};

/// How many of the slowest statements are explained.
pub const EXPLAINED: usize = 3;
/// Hinter INDEXABLE_SEQSCAN, with our size bound.
pub const SEQ_SCAN_MIN_ROWS: f64 = 10_000.0;
/// Ours: a nested loop whose inner side is a sequential scan repeated this often.
pub const NESTED_LOOP_MIN_LOOPS: f64 = 1_000.0;

pub const EXPLAIN_SLOWEST: CheckSpec = CheckSpec {
    id: "pg.explain-slowest",
    area: CheckArea::Database,
    title: "Plans of the slowest statements",
    severity: Severity::Medium,
    threshold: "generic plans of the 3 slowest SELECTs (by mean time): a Seq Scan with a Filter on a table of ≥ 10,000 rows; a Sort on disk (or estimated larger than work_mem); a Hash in more than one batch (or estimated larger than work_mem × hash_mem_multiplier); a Nested Loop whose inner side is a Seq Scan run ≥ 1,000 times",
    source: "depesz Pg::Explain::Hinter (INDEXABLE_SEQSCAN, DISK_SORT); pganalyze Hash node; ours (nested loop)",
};

pub async fn explain_slowest(
    conn: &mut PgConnection,
    ctx: &Context,
) -> Result<CheckResult, Unavailable> {
    let spec = &EXPLAIN_SLOWEST;
    let mut statements = load_statements(conn, ctx).await?;
    let hidden = statements.iter().filter(|s| s.hidden()).count();
    statements.retain(explainable);
    if statements.is_empty() {
        let mut why =
            "pg_stat_statements holds no SELECT statement of this database to explain".to_owned();
        if hidden > 0 {
            why.push_str(&format!(
                " ({hidden} statements hide their text from the probe's role: grant pg_read_all_stats)"
            ));
        }
        return Err(Unavailable(why));
    }
    statements.sort_by(|a, b| b.mean_ms().total_cmp(&a.mean_ms()));
    statements.truncate(EXPLAINED);

    let memory = read_memory_limits(conn).await?;
    let mut explained = Vec::new();
    let mut failures = Vec::new();
    let mut hits = Vec::new();
    for (number, statement) in statements.into_iter().enumerate() {
        match generic_plan(conn, ctx.server_version, statement.query.clone(), number).await {
            Ok(plan) => {
                let sizes = table_sizes(conn, &plan).await?;
                let found = plan_rules(&plan, &sizes, memory);
                for hit in &found {
                    hits.push(format!("{hit} — {}", shorten(&statement.query, 120)));
                }
                explained.push(json!({
                    "query": shorten(&statement.query, 500),
                    "mean_ms": super::round2(statement.mean_ms()),
                    "calls": statement.calls,
                    "total_cost": plan.get("Total Cost"),
                    "top_node": plan.get("Node Type"),
                    "findings": found,
                }));
            }
            Err(Unavailable(why)) => {
                failures.push(format!("{}: {why}", shorten(&statement.query, 120)));
            }
        }
    }
    if explained.is_empty() {
        return Err(Unavailable(format!(
            "none of the slowest statements could be explained: {}",
            failures.join("; ")
        )));
    }
    let measured = json!({
        "explained": explained,
        "not_explained": failures,
        "method": if ctx.server_version >= 160_000 { "EXPLAIN (GENERIC_PLAN)" } else { "PREPARE + force_generic_plan + EXPLAIN EXECUTE with NULL parameters" },
        "work_mem_bytes": memory.work_mem,
    });
    let mut evidence = hits.clone();
    evidence.extend(failures.iter().map(|f| format!("not explained: {f}")));
    if hits.is_empty() {
        return Ok(CheckResult::pass(
            spec,
            format!(
                "The plans of the {} slowest SELECT statements show none of the plan problems looked for",
                explained.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(evidence));
    }
    Ok(spec
        .result(
            CheckStatus::Warn,
            format!(
                "{} plan problem(s) in the {} slowest SELECT statements",
                hits.len(),
                explained.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(evidence))
}

/// A SELECT that can be explained as a single statement.
fn explainable(statement: &Statement) -> bool {
    if statement.hidden() || statement.query.contains(';') {
        return false;
    }
    match statement_kind(&statement.query).as_str() {
        "select" => true,
        // A WITH that writes is not a read.
        "with" => {
            let lower = statement.query.to_lowercase();
            !["insert ", "update ", "delete ", "merge "]
                .iter()
                .any(|w| lower.contains(w))
        }
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryLimits {
    pub work_mem: f64,
    pub hash_mem_multiplier: f64,
}

async fn read_memory_limits(conn: &mut PgConnection) -> Result<MemoryLimits, Unavailable> {
    let row = sqlx::query(&format!(
        "{MARK} select pg_size_bytes(current_setting('work_mem'))::float8 as work_mem,
                coalesce(current_setting('hash_mem_multiplier', true), '1')::float8 as hash_mem"
    ))
    .fetch_one(&mut *conn)
    .await?;
    Ok(MemoryLimits {
        work_mem: row.try_get("work_mem")?,
        hash_mem_multiplier: row.try_get("hash_mem")?,
    })
}

/// The generic plan's top node (the `Plan` object of EXPLAIN's JSON).
async fn generic_plan(
    conn: &mut PgConnection,
    server_version: i32,
    query: String,
    number: usize,
) -> Result<Value, Unavailable> {
    // A savepoint per statement: a statement that does not prepare must not abort the
    // transaction the other statements still need.
    sqlx::query("/* plumbline-probe */ savepoint plumbline_explain")
        .execute(&mut *conn)
        .await?;
    let name = format!("plumbline_explain_{number}");
    let result = if server_version >= 160_000 {
        explain_generic(conn, &query).await
    } else {
        explain_prepared(conn, &query, &name).await
    };
    if result.is_err() {
        let _ = sqlx::query("/* plumbline-probe */ rollback to savepoint plumbline_explain")
            .execute(&mut *conn)
            .await;
    }
    // Prepared statements outlive a rollback: free the name whatever happened.
    let prepared = sqlx::query(&format!(
        "{MARK} select count(*)::int8 from pg_prepared_statements where name = $1"
    ))
    .bind(&name)
    .fetch_one(&mut *conn)
    .await
    .and_then(|row| row.try_get::<i64, _>(0))
    .unwrap_or(0);
    if prepared > 0 {
        let _ = sqlx::query(&format!("{MARK} deallocate {name}"))
            .execute(&mut *conn)
            .await;
    }
    let text = result?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Unavailable(format!("EXPLAIN returned JSON the probe cannot read: {e}")))?;
    value
        .get(0)
        .and_then(|v| v.get("Plan"))
        .cloned()
        .ok_or_else(|| Unavailable("EXPLAIN returned no plan".into()))
}

async fn explain_generic(conn: &mut PgConnection, query: &str) -> Result<String, Unavailable> {
    let row = sqlx::query(&format!(
        "{MARK} explain (generic_plan, verbose, format json) {query}"
    ))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get_unchecked::<String, _>(0)?)
}

async fn explain_prepared(
    conn: &mut PgConnection,
    query: &str,
    name: &str,
) -> Result<String, Unavailable> {
    sqlx::query("/* plumbline-probe */ set local plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await?;
    // The statement text goes through the extended protocol, which refuses a second
    // statement hidden in it.
    sqlx::query(&format!("{MARK} prepare {name} as {query}"))
        .execute(&mut *conn)
        .await
        .map_err(|e| Unavailable(format!("could not prepare it: {}", describe(&e))))?;
    let count = parameter_count(query);
    let arguments = if count == 0 {
        String::new()
    } else {
        format!("({})", vec!["null"; count].join(", "))
    };
    let row = sqlx::query(&format!(
        "{MARK} explain (verbose, format json) execute {name}{arguments}"
    ))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get_unchecked::<String, _>(0)?)
}

/// The row counts of the tables the plan scans sequentially, keyed `schema.table`.
async fn table_sizes(
    conn: &mut PgConnection,
    plan: &Value,
) -> Result<HashMap<String, f64>, Unavailable> {
    let mut sizes = HashMap::new();
    for (schema, table) in seq_scanned_tables(plan) {
        let row = sqlx::query(&format!(
            "{MARK} select greatest(c.reltuples::float8, coalesce(s.n_live_tup, 0)::float8) as rows
             from pg_class c
             join pg_namespace n on n.oid = c.relnamespace
             left join pg_stat_all_tables s on s.relid = c.oid
             where n.nspname = $1 and c.relname = $2"
        ))
        .bind(&schema)
        .bind(&table)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            sizes.insert(format!("{schema}.{table}"), row.try_get::<f64, _>("rows")?);
        }
    }
    Ok(sizes)
}

fn seq_scanned_tables(plan: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    walk(plan, &mut |node| {
        if node_type(node) == "Seq Scan" {
            if let (Some(schema), Some(table)) = (
                node.get("Schema").and_then(Value::as_str),
                node.get("Relation Name").and_then(Value::as_str),
            ) {
                let key = (schema.to_owned(), table.to_owned());
                if !found.contains(&key) {
                    found.push(key);
                }
            }
        }
    });
    found
}

fn walk(node: &Value, visit: &mut dyn FnMut(&Value)) {
    visit(node);
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for child in children {
            walk(child, visit);
        }
    }
}

fn node_type(node: &Value) -> &str {
    node.get("Node Type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn number(node: &Value, key: &str) -> Option<f64> {
    node.get(key).and_then(Value::as_f64)
}

fn relation(node: &Value) -> String {
    match (
        node.get("Schema").and_then(Value::as_str),
        node.get("Relation Name").and_then(Value::as_str),
    ) {
        (Some(schema), Some(table)) => format!("{schema}.{table}"),
        (None, Some(table)) => table.to_owned(),
        _ => "?".to_owned(),
    }
}

/// The plan rules, on the JSON of a plan (with or without ANALYZE figures). `sizes` holds the
/// row counts of sequentially scanned tables.
pub fn plan_rules(plan: &Value, sizes: &HashMap<String, f64>, memory: MemoryLimits) -> Vec<String> {
    let mut found = Vec::new();
    walk(plan, &mut |node| {
        let estimated_bytes =
            number(node, "Plan Rows").unwrap_or(0.0) * number(node, "Plan Width").unwrap_or(0.0);
        match node_type(node) {
            "Seq Scan" => {
                let table = relation(node);
                let rows = sizes.get(&table).copied().unwrap_or(0.0);
                if let Some(filter) = node.get("Filter").and_then(Value::as_str) {
                    if rows >= SEQ_SCAN_MIN_ROWS {
                        found.push(format!(
                            "indexable seq scan: {table} (~{rows:.0} rows) filtered by {}",
                            shorten(filter, 80)
                        ));
                    }
                }
            }
            "Sort" => {
                let on_disk = node.get("Sort Space Type").and_then(Value::as_str) == Some("Disk")
                    || node
                        .get("Sort Method")
                        .and_then(Value::as_str)
                        .is_some_and(|m| m.contains("external"));
                if on_disk {
                    found.push("disk sort: the sort spilled to disk".to_owned());
                } else if node.get("Sort Method").is_none() && estimated_bytes > memory.work_mem {
                    found.push(format!(
                        "disk sort (estimated): ~{:.0} kB to sort, work_mem is {:.0} kB",
                        estimated_bytes / 1024.0,
                        memory.work_mem / 1024.0
                    ));
                }
            }
            "Hash" => {
                let limit = memory.work_mem * memory.hash_mem_multiplier;
                match number(node, "Hash Batches") {
                    Some(batches) if batches > 1.0 => {
                        found.push(format!("hash spill: {batches:.0} batches"));
                    }
                    None if estimated_bytes > limit => found.push(format!(
                        "hash spill (estimated): ~{:.0} kB to hash, limit {:.0} kB",
                        estimated_bytes / 1024.0,
                        limit / 1024.0
                    )),
                    _ => {}
                }
            }
            "Nested Loop" => {
                let children = node
                    .get("Plans")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let outer = children.iter().find(|c| {
                    c.get("Parent Relationship").and_then(Value::as_str) == Some("Outer")
                });
                let inner = children.iter().find(|c| {
                    c.get("Parent Relationship").and_then(Value::as_str) == Some("Inner")
                });
                if let Some(inner) = inner {
                    // A Materialize over the scan still reads the table once per plan, not
                    // per loop; only a bare Seq Scan repeats.
                    if node_type(inner) == "Seq Scan" {
                        let loops = number(inner, "Actual Loops")
                            .or_else(|| outer.and_then(|o| number(o, "Plan Rows")))
                            .unwrap_or(0.0);
                        if loops >= NESTED_LOOP_MIN_LOOPS {
                            found.push(format!(
                                "nested loop with inner seq scan: {} scanned ~{loops:.0} times",
                                relation(inner)
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    });
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MEMORY: MemoryLimits = MemoryLimits {
        work_mem: 4.0 * 1024.0 * 1024.0,
        hash_mem_multiplier: 2.0,
    };

    #[test]
    fn flags_a_filtered_seq_scan_on_a_big_table_only() {
        let plan = json!({
            "Node Type": "Aggregate", "Plan Rows": 1, "Plan Width": 8,
            "Plans": [{ "Node Type": "Seq Scan", "Parent Relationship": "Outer",
                        "Schema": "public", "Relation Name": "events",
                        "Filter": "(events.kind = $1)", "Plan Rows": 2400, "Plan Width": 0 }]
        });
        let mut sizes = HashMap::new();
        sizes.insert("public.events".to_owned(), 12_000.0);
        let found = plan_rules(&plan, &sizes, MEMORY);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("indexable seq scan: public.events"));
        sizes.insert("public.events".to_owned(), 900.0);
        assert!(plan_rules(&plan, &sizes, MEMORY).is_empty());
        assert_eq!(
            seq_scanned_tables(&plan),
            vec![("public".to_owned(), "events".to_owned())]
        );
    }

    #[test]
    fn flags_disk_sorts_hash_spills_and_looped_seq_scans() {
        let analyzed = json!({
            "Node Type": "Sort", "Sort Method": "external merge", "Sort Space Type": "Disk",
            "Plans": [{ "Node Type": "Hash Join", "Plans": [
                { "Node Type": "Hash", "Hash Batches": 4, "Plan Rows": 10, "Plan Width": 10 }
            ]}]
        });
        let found = plan_rules(&analyzed, &HashMap::new(), MEMORY);
        assert_eq!(found.len(), 2, "{found:?}");

        let estimated = json!({
            "Node Type": "Nested Loop", "Plans": [
                { "Node Type": "Index Scan", "Parent Relationship": "Outer", "Plan Rows": 5000, "Plan Width": 8 },
                { "Node Type": "Seq Scan", "Parent Relationship": "Inner", "Relation Name": "t", "Plan Rows": 1, "Plan Width": 8 }
            ]
        });
        let found = plan_rules(&estimated, &HashMap::new(), MEMORY);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("nested loop"));

        let big_sort = json!({ "Node Type": "Sort", "Plan Rows": 1_000_000, "Plan Width": 100 });
        assert!(plan_rules(&big_sort, &HashMap::new(), MEMORY)[0].contains("estimated"));
    }
}
