//! Catalog and table-statistics checks: indexes, keys, sequences, types, cache and bloat.
//! The rules follow pg-index-health's SQL checks, PgHero and pgdoctor (written anew here, not
//! copied); each spec names the one it follows.
use serde_json::json;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;

use super::round2;
use super::session::{Unavailable, MARK};
use crate::findings::Severity;
use crate::probes::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};

/// Objects of the client's own schemas: not the catalogs, TOAST or temporary schemas.
fn user_schema(namespace: &str) -> String {
    format!(
        "{namespace}.nspname not in ('pg_catalog', 'information_schema') and {namespace}.nspname !~ '^pg_(toast|temp_)'"
    )
}

/// Tables an extension created are the extension's business, not the client's.
fn not_extension_owned(class_oid: &str) -> String {
    format!(
        "not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = {class_oid} and e.deptype = 'e')"
    )
}

/// At most this many evidence lines per check; the count is always in the summary.
const EVIDENCE_LINES: usize = 20;

fn capped(lines: Vec<String>) -> Vec<String> {
    let total = lines.len();
    let mut shown: Vec<String> = lines.into_iter().take(EVIDENCE_LINES).collect();
    if total > EVIDENCE_LINES {
        shown.push(format!("… and {} more", total - EVIDENCE_LINES));
    }
    shown
}

fn text(row: &PgRow, column: &str) -> Result<String, Unavailable> {
    Ok(row
        .try_get::<Option<String>, _>(column)?
        .unwrap_or_default())
}

fn int(row: &PgRow, column: &str) -> Result<i64, Unavailable> {
    Ok(row.try_get::<Option<i64>, _>(column)?.unwrap_or(0))
}

fn megabytes(bytes: i64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

// ---------------------------------------------------------------------------------------------
// Foreign keys without an index

pub const UNINDEXED_FOREIGN_KEYS: CheckSpec = CheckSpec {
    id: "pg.unindexed-foreign-keys",
    area: CheckArea::Database,
    title: "Foreign keys without an index",
    severity: Severity::Medium,
    threshold: "any foreign key with no index holding all its columns and led by its first column",
    source: "pg-index-health foreign_keys_without_index",
};

pub async fn unindexed_foreign_keys(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &UNINDEXED_FOREIGN_KEYS;
    let rows = sqlx::query(&format!(
        "{MARK} select c.conrelid::regclass::text as table_name,
                c.conname::text as name,
                c.confrelid::regclass::text as referenced,
                array_to_string(array(
                    select a.attname::text
                    from unnest(c.conkey) with ordinality as k(attnum, ord)
                    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
                    order by k.ord), ', ') as columns
         from pg_constraint c
         join pg_namespace n on n.oid = c.connamespace
         where c.contype = 'f' and {}
           and not exists (
               select 1 from pg_index i
               where i.indrelid = c.conrelid
                 and i.indkey[0] = c.conkey[1]
                 and c.conkey <@ i.indkey::int2[])
         order by 1, 2",
        user_schema("n")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query(&format!(
        "{MARK} select count(*)::int8 from pg_constraint c join pg_namespace n on n.oid = c.connamespace
         where c.contype = 'f' and {}",
        user_schema("n")
    ))
    .fetch_one(&mut *conn)
    .await?
    .try_get::<i64, _>(0)?;
    let mut evidence = Vec::new();
    for row in &rows {
        evidence.push(format!(
            "{}({}) → {} ({})",
            text(row, "table_name")?,
            text(row, "columns")?,
            text(row, "referenced")?,
            text(row, "name")?
        ));
    }
    let measured = json!({ "foreign_keys": total, "without_index": rows.len() });
    if rows.is_empty() {
        return Ok(CheckResult::pass(
            spec,
            all_of(total as usize, "foreign keys", "have an index"),
        )
        .with_measured(measured));
    }
    Ok(spec
        .result(
            CheckStatus::Fail,
            format!(
                "{} of {total} foreign keys have no index: deleting or updating a parent row scans the child table",
                rows.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

// ---------------------------------------------------------------------------------------------
// Unused indexes

pub const UNUSED_INDEX_FAIL_BYTES: i64 = 10 * 1024 * 1024;
pub const UNUSED_INDEX_WARN_SCANS: i64 = 1_000;
pub const UNUSED_INDEX_WARN_WRITES: i64 = 10_000;

pub const UNUSED_INDEXES: CheckSpec = CheckSpec {
    id: "pg.unused-indexes",
    area: CheckArea::Database,
    title: "Unused indexes",
    severity: Severity::Low,
    threshold: "a valid non-unique index that backs no foreign key: 0 scans and > 10 MB fail; < 1,000 scans on a table with > 10,000 writes warn",
    source: "pgdoctor (pg-index-health flags < 50 scans; PgHero 0 scans and ≥ 10 MB)",
};

pub async fn unused_indexes(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &UNUSED_INDEXES;
    let rows = sqlx::query(&format!(
        "{MARK} select s.relid::regclass::text as table_name,
                s.indexrelid::regclass::text as index_name,
                s.idx_scan::int8 as scans,
                pg_relation_size(s.indexrelid)::int8 as bytes,
                (t.n_tup_ins + t.n_tup_upd + t.n_tup_del)::int8 as writes
         from pg_stat_user_indexes s
         join pg_index i on i.indexrelid = s.indexrelid
         join pg_stat_user_tables t on t.relid = s.relid
         where not i.indisunique and not i.indisprimary and i.indisvalid
           and not exists (
               select 1 from pg_constraint c
               where c.contype = 'f' and c.conrelid = i.indrelid
                 and i.indkey[0] = c.conkey[1] and c.conkey <@ i.indkey::int2[])
           and ((s.idx_scan = 0 and pg_relation_size(s.indexrelid) > {UNUSED_INDEX_FAIL_BYTES})
                or (s.idx_scan < {UNUSED_INDEX_WARN_SCANS}
                    and t.n_tup_ins + t.n_tup_upd + t.n_tup_del > {UNUSED_INDEX_WARN_WRITES}))
         order by 4 desc"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut status = CheckStatus::Pass;
    let mut evidence = Vec::new();
    let mut wasted = 0_i64;
    for row in &rows {
        let scans = int(row, "scans")?;
        let bytes = int(row, "bytes")?;
        wasted += bytes;
        status = status.max(if scans == 0 && bytes > UNUSED_INDEX_FAIL_BYTES {
            CheckStatus::Fail
        } else {
            CheckStatus::Warn
        });
        evidence.push(format!(
            "{} on {}: {scans} scans, {:.1} MB, {} writes to the table",
            text(row, "index_name")?,
            text(row, "table_name")?,
            megabytes(bytes),
            int(row, "writes")?
        ));
    }
    let measured = json!({ "unused": rows.len(), "unused_megabytes": round2(megabytes(wasted)) });
    if rows.is_empty() {
        return Ok(
            CheckResult::pass(spec, "No index is unused by these rules").with_measured(measured)
        );
    }
    evidence.push(
        "an index used only on a replica looks unused here: check the replicas before dropping"
            .into(),
    );
    Ok(spec
        .result(
            status,
            format!(
                "{} index(es) look unused ({:.1} MB)",
                rows.len(),
                megabytes(wasted)
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

// ---------------------------------------------------------------------------------------------
// Duplicate and covered indexes

pub const DUPLICATE_INDEXES: CheckSpec = CheckSpec {
    id: "pg.duplicate-indexes",
    area: CheckArea::Database,
    title: "Duplicate and overlapping indexes",
    severity: Severity::Low,
    threshold: "any index identical to another of the table (columns, operator classes, collations, expressions, predicate), or a valid non-unique B-tree without expressions or predicate whose columns lead another valid B-tree of the table",
    source: "pg-index-health duplicated_indexes; PgHero duplicate_indexes",
};

/// One index as the duplicate rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexShape {
    pub table: String,
    pub name: String,
    pub method: String,
    /// (column number, operator class, collation, option) of the key columns, in order.
    pub keys: Vec<(i16, i64, i64, i16)>,
    /// Columns carried by INCLUDE.
    pub included: Vec<i16>,
    pub expressions: String,
    pub predicate: String,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
}

/// (unneeded index, the index that makes it so, why).
pub fn redundant_indexes(indexes: &[IndexShape]) -> Vec<(usize, usize, &'static str)> {
    let mut found: Vec<(usize, usize, &'static str)> = Vec::new();
    let flagged =
        |found: &Vec<(usize, usize, &'static str)>, i: usize| found.iter().any(|f| f.0 == i);
    // Identical indexes (pg-index-health): keep the primary or unique one, else the first name.
    for (i, a) in indexes.iter().enumerate() {
        for (j, b) in indexes.iter().enumerate() {
            if i == j || a.table != b.table || flagged(&found, i) || flagged(&found, j) {
                continue;
            }
            let same = a.method == b.method
                && a.keys == b.keys
                && a.included == b.included
                && a.expressions == b.expressions
                && a.predicate == b.predicate;
            let a_goes = (b.primary && !a.primary)
                || (b.unique && !a.unique)
                || (a.primary == b.primary && a.unique == b.unique && a.name > b.name);
            if same && a_goes {
                found.push((i, j, "identical"));
            }
        }
    }
    // Covered indexes (PgHero): a plain B-tree whose columns lead another B-tree.
    for (i, a) in indexes.iter().enumerate() {
        let plain = a.method == "btree"
            && !a.primary
            && !a.unique
            && a.valid
            && a.expressions.is_empty()
            && a.predicate.is_empty()
            && a.included.is_empty();
        if !plain || flagged(&found, i) {
            continue;
        }
        for (j, b) in indexes.iter().enumerate() {
            if i == j
                || b.table != a.table
                || b.method != "btree"
                || !b.valid
                || !b.expressions.is_empty()
                || !b.predicate.is_empty()
                || b.keys.len() <= a.keys.len()
            {
                continue;
            }
            if b.keys[..a.keys.len()] == a.keys[..] {
                found.push((i, j, "covered"));
                break;
            }
        }
    }
    found
}

pub async fn duplicate_indexes(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &DUPLICATE_INDEXES;
    // The vectors go through text: cast straight to arrays they keep a lower bound of 0,
    // which sqlx refuses to decode.
    let rows = sqlx::query(&format!(
        "{MARK} select i.indrelid::regclass::text as table_name,
                i.indexrelid::regclass::text as index_name,
                am.amname::text as method,
                i.indnkeyatts::int4 as key_count,
                string_to_array(i.indkey::text, ' ')::int2[] as columns,
                string_to_array(i.indclass::text, ' ')::int8[] as classes,
                string_to_array(i.indcollation::text, ' ')::int8[] as collations,
                string_to_array(i.indoption::text, ' ')::int2[] as options,
                coalesce(pg_get_expr(i.indexprs, i.indrelid), '') as expressions,
                coalesce(pg_get_expr(i.indpred, i.indrelid), '') as predicate,
                i.indisunique as is_unique, i.indisprimary as is_primary, i.indisvalid as is_valid,
                pg_get_indexdef(i.indexrelid) as definition,
                pg_relation_size(i.indexrelid)::int8 as bytes
         from pg_index i
         join pg_class c on c.oid = i.indexrelid
         join pg_namespace n on n.oid = c.relnamespace
         join pg_am am on am.oid = c.relam
         where {}
         order by 1, 2",
        user_schema("n")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut shapes = Vec::with_capacity(rows.len());
    let mut definitions = Vec::with_capacity(rows.len());
    let mut sizes = Vec::with_capacity(rows.len());
    for row in &rows {
        let key_count = row.try_get::<i32, _>("key_count")?.max(0) as usize;
        let columns: Vec<i16> = row.try_get("columns")?;
        let classes: Vec<i64> = row.try_get("classes")?;
        let collations: Vec<i64> = row.try_get("collations")?;
        let options: Vec<i16> = row.try_get("options")?;
        let keys = (0..key_count.min(columns.len()))
            .map(|k| {
                (
                    columns[k],
                    classes.get(k).copied().unwrap_or(0),
                    collations.get(k).copied().unwrap_or(0),
                    options.get(k).copied().unwrap_or(0),
                )
            })
            .collect();
        shapes.push(IndexShape {
            table: text(row, "table_name")?,
            name: text(row, "index_name")?,
            method: text(row, "method")?,
            keys,
            included: columns
                .get(key_count..)
                .map(<[i16]>::to_vec)
                .unwrap_or_default(),
            expressions: text(row, "expressions")?,
            predicate: text(row, "predicate")?,
            unique: row.try_get("is_unique")?,
            primary: row.try_get("is_primary")?,
            valid: row.try_get("is_valid")?,
        });
        definitions.push(text(row, "definition")?);
        sizes.push(int(row, "bytes")?);
    }
    let found = redundant_indexes(&shapes);
    let mut evidence = Vec::new();
    let mut wasted = 0;
    for (unneeded, keeper, why) in &found {
        wasted += sizes[*unneeded];
        let relation = if *why == "identical" {
            "is identical to"
        } else {
            "is covered by"
        };
        evidence.push(format!(
            "{} {relation} {}: {} / {}",
            shapes[*unneeded].name,
            shapes[*keeper].name,
            definitions[*unneeded],
            definitions[*keeper]
        ));
    }
    let measured = json!({
        "indexes": shapes.len(),
        "redundant": found.len(),
        "redundant_megabytes": round2(megabytes(wasted)),
    });
    if found.is_empty() {
        return Ok(CheckResult::pass(
            spec,
            format!("No duplicate or covered index among {}", shapes.len()),
        )
        .with_measured(measured));
    }
    Ok(spec
        .result(
            CheckStatus::Fail,
            format!(
                "{} redundant index(es) ({:.1} MB) slow every write for nothing",
                found.len(),
                megabytes(wasted)
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

// ---------------------------------------------------------------------------------------------
// Tables without a primary key

pub const MISSING_PRIMARY_KEYS: CheckSpec = CheckSpec {
    id: "pg.missing-primary-keys",
    area: CheckArea::Database,
    title: "Tables without a primary key",
    severity: Severity::Medium,
    threshold: "any table (ordinary or partitioned, not a partition) without a primary key",
    source: "pg-index-health tables_without_primary_key",
};

/// The client's tables: ordinary or partitioned, not partitions, not an extension's.
fn user_tables(class: &str, namespace: &str) -> String {
    format!(
        "{class}.relkind in ('r', 'p') and not {class}.relispartition and {} and {}",
        user_schema(namespace),
        not_extension_owned(&format!("{class}.oid"))
    )
}

pub async fn missing_primary_keys(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &MISSING_PRIMARY_KEYS;
    let rows = sqlx::query(&format!(
        "{MARK} select c.oid::regclass::text as table_name,
                not exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'p') as missing
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         where {}
         order by 1",
        user_tables("c", "n")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut missing = Vec::new();
    for row in &rows {
        if row.try_get::<bool, _>("missing")? {
            missing.push(text(row, "table_name")?);
        }
    }
    let measured = json!({ "tables": rows.len(), "without_primary_key": missing.len() });
    if missing.is_empty() {
        return Ok(
            CheckResult::pass(spec, all_of(rows.len(), "tables", "have a primary key"))
                .with_measured(measured),
        );
    }
    Ok(spec
        .result(
            CheckStatus::Fail,
            format!(
                "{} of {} tables have no primary key",
                missing.len(),
                rows.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(missing)))
}

// ---------------------------------------------------------------------------------------------
// Sequential-scan-heavy tables

pub const SEQ_SCAN_MIN_ROWS: i64 = 10_000;
pub const SEQ_SCAN_FAIL_ROWS: i64 = 50_000;
pub const SEQ_SCAN_MIN_SCANS: i64 = 100;

pub const SEQ_SCAN_HEAVY: CheckSpec = CheckSpec {
    id: "pg.seq-scan-heavy",
    area: CheckArea::Database,
    title: "Tables read mostly by sequential scans",
    severity: Severity::Medium,
    threshold: "> 10,000 live rows, > 100 scans in all and sequential scans > 10 × index scans warn; > 50,000 rows and > 50 × fail",
    source: "pgdoctor (sizes and ratios); pg-index-health tables_with_missing_indexes (> 100 scans)",
};

pub async fn seq_scan_heavy(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &SEQ_SCAN_HEAVY;
    let rows = sqlx::query(&format!(
        "{MARK} select relid::regclass::text as table_name,
                seq_scan::int8 as seq_scans,
                coalesce(idx_scan, 0)::int8 as index_scans,
                n_live_tup::int8 as live_rows
         from pg_stat_user_tables
         where n_live_tup > {SEQ_SCAN_MIN_ROWS}
           and seq_scan + coalesce(idx_scan, 0) > {SEQ_SCAN_MIN_SCANS}
           and seq_scan > 10 * coalesce(idx_scan, 0)
         order by seq_scan * n_live_tup desc"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut status = CheckStatus::Pass;
    let mut evidence = Vec::new();
    for row in &rows {
        let seq = int(row, "seq_scans")?;
        let idx = int(row, "index_scans")?;
        let live = int(row, "live_rows")?;
        status = status.max(if live > SEQ_SCAN_FAIL_ROWS && seq > 50 * idx {
            CheckStatus::Fail
        } else {
            CheckStatus::Warn
        });
        evidence.push(format!(
            "{}: {seq} sequential scans, {idx} index scans, {live} rows",
            text(row, "table_name")?
        ));
    }
    let measured = json!({ "tables": rows.len() });
    if rows.is_empty() {
        return Ok(
            CheckResult::pass(spec, "No large table is read mostly by sequential scans")
                .with_measured(measured),
        );
    }
    Ok(spec
        .result(
            status,
            format!(
                "{} large table(s) are read mostly by sequential scans: an index is likely missing",
                rows.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

// ---------------------------------------------------------------------------------------------
// Cache hit rate

pub const CACHE_MIN_BLOCKS: i64 = 1_000;

pub const CACHE_HIT_RATE: CheckSpec = CheckSpec {
    id: "pg.cache-hit-rate",
    area: CheckArea::Database,
    title: "Cache hit rate",
    severity: Severity::Medium,
    threshold: "table and index blocks of the client's tables found in shared buffers: < 95 % warn, < 90 % fail (judged from 1,000 block reads)",
    source: "pgdoctor (PgHero aims for ≥ 99 %)",
};

pub async fn cache_hit_rate(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &CACHE_HIT_RATE;
    let row = sqlx::query(&format!(
        "{MARK} select
            (select coalesce(sum(heap_blks_hit), 0) from pg_statio_user_tables)::int8 as heap_hit,
            (select coalesce(sum(heap_blks_read), 0) from pg_statio_user_tables)::int8 as heap_read,
            (select coalesce(sum(idx_blks_hit), 0) from pg_statio_user_indexes)::int8 as index_hit,
            (select coalesce(sum(idx_blks_read), 0) from pg_statio_user_indexes)::int8 as index_read"
    ))
    .fetch_one(&mut *conn)
    .await?;
    let heap_hit = int(&row, "heap_hit")?;
    let heap_read = int(&row, "heap_read")?;
    let index_hit = int(&row, "index_hit")?;
    let index_read = int(&row, "index_read")?;
    let hits = heap_hit + index_hit;
    let total = hits + heap_read + index_read;
    let rate = |hit: i64, read: i64| {
        if hit + read > 0 {
            hit as f64 / (hit + read) as f64 * 100.0
        } else {
            100.0
        }
    };
    let measured = json!({
        "hit_percent": round2(rate(hits, heap_read + index_read)),
        "table_hit_percent": round2(rate(heap_hit, heap_read)),
        "index_hit_percent": round2(rate(index_hit, index_read)),
        "blocks": total,
    });
    if total < CACHE_MIN_BLOCKS {
        return Err(Unavailable(format!(
            "only {total} block reads recorded for the client's tables; too few to judge"
        )));
    }
    let overall = rate(hits, heap_read + index_read);
    let status = if overall < 90.0 {
        CheckStatus::Fail
    } else if overall < 95.0 {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    Ok(spec
        .result(
            status,
            format!("{overall:.1} % of table and index reads come from the cache"),
        )
        .with_measured(measured)
        .with_evidence(vec![format!(
            "tables {:.1} % ({heap_hit} hits, {heap_read} reads), indexes {:.1} % ({index_hit} hits, {index_read} reads)",
            rate(heap_hit, heap_read),
            rate(index_hit, index_read)
        )]))
}

// ---------------------------------------------------------------------------------------------
// Sequence exhaustion

pub const SEQUENCE_EXHAUSTION: CheckSpec = CheckSpec {
    id: "pg.sequence-exhaustion",
    area: CheckArea::Database,
    title: "Sequences running out",
    severity: Severity::High,
    threshold: "share of a sequence's range used: > 75 % warn, > 90 % fail; for a sequence feeding an integer or smallint column, share of the column's range: > 50 % warn, > 75 % fail",
    source: "pgdoctor",
};

/// How far a sequence has gone: (share of its own range, share of its column's range) in %.
pub fn sequence_usage(
    last: i64,
    min: i64,
    max: i64,
    increment: i64,
    column_type: Option<&str>,
) -> (f64, Option<f64>) {
    let span = (max as f64) - (min as f64);
    let own = if span > 0.0 {
        if increment >= 0 {
            (last as f64 - min as f64) / span * 100.0
        } else {
            (max as f64 - last as f64) / span * 100.0
        }
    } else {
        0.0
    };
    let column_max = match column_type {
        Some("int2") => Some(i16::MAX as f64),
        Some("int4") => Some(i32::MAX as f64),
        _ => None,
    };
    let column = column_max
        .filter(|limit| (max as f64) > *limit && increment >= 0)
        .map(|limit| (last as f64).max(0.0) / limit * 100.0);
    (own, column)
}

pub async fn sequence_exhaustion(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &SEQUENCE_EXHAUSTION;
    let rows = sqlx::query(&format!(
        "{MARK} select format('%I.%I', s.schemaname, s.sequencename) as sequence_name,
                s.min_value::int8 as min_value, s.max_value::int8 as max_value,
                s.increment_by::int8 as increment, s.last_value::int8 as last_value,
                (select t.typname::text
                 from pg_depend d
                 join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
                 join pg_type t on t.oid = a.atttypid
                 where d.classid = 'pg_class'::regclass
                   and d.objid = sc.oid
                   and d.refclassid = 'pg_class'::regclass
                   and d.deptype in ('a', 'i')
                 limit 1) as column_type
         from pg_sequences s
         join pg_namespace n on n.nspname = s.schemaname
         join pg_class sc on sc.relnamespace = n.oid and sc.relname = s.sequencename
         where {}",
        user_schema("n")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut status = CheckStatus::Pass;
    let mut evidence = Vec::new();
    let mut unreadable = 0;
    let mut worst = 0.0_f64;
    for row in &rows {
        let Some(last) = row.try_get::<Option<i64>, _>("last_value")? else {
            // Never used, or the role may not read it.
            unreadable += 1;
            continue;
        };
        let column_type: Option<String> = row.try_get("column_type")?;
        let (own, column) = sequence_usage(
            last,
            int(row, "min_value")?,
            int(row, "max_value")?,
            int(row, "increment")?,
            column_type.as_deref(),
        );
        worst = worst.max(own).max(column.unwrap_or(0.0));
        let mut this = if own > 90.0 {
            CheckStatus::Fail
        } else if own > 75.0 {
            CheckStatus::Warn
        } else {
            CheckStatus::Pass
        };
        if let Some(column) = column {
            this = this.max(if column > 75.0 {
                CheckStatus::Fail
            } else if column > 50.0 {
                CheckStatus::Warn
            } else {
                CheckStatus::Pass
            });
        }
        if this != CheckStatus::Pass {
            evidence.push(format!(
                "{}: {own:.1} % of its range used{}",
                text(row, "sequence_name")?,
                match (column, column_type.as_deref()) {
                    (Some(c), Some(t)) => format!(", {c:.1} % of its {t} column's range"),
                    _ => String::new(),
                }
            ));
        }
        status = status.max(this);
    }
    let measured = json!({
        "sequences": rows.len(),
        "not_read": unreadable,
        "worst_used_percent": round2(worst),
    });
    let summary = if status == CheckStatus::Pass {
        format!("No sequence is near its end (the fullest has used {worst:.1} % of its range)")
    } else {
        format!("{} sequence(s) are running out of values", evidence.len())
    };
    Ok(spec
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

// ---------------------------------------------------------------------------------------------
// Missing timestamps

pub const MISSING_TIMESTAMPS: CheckSpec = CheckSpec {
    id: "pg.missing-timestamps",
    area: CheckArea::Database,
    title: "Tables without timestamps",
    severity: Severity::Low,
    threshold: "any table without a timestamptz column named like created, inserted, updated or modified: warn",
    source: "ours (house style: created_at and updated_at everywhere)",
};

pub async fn missing_timestamps(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &MISSING_TIMESTAMPS;
    let rows = sqlx::query(&format!(
        "{MARK} select c.oid::regclass::text as table_name,
                not exists (
                    select 1 from pg_attribute a
                    where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                      and a.atttypid = 'timestamptz'::regtype
                      and a.attname ~ '(created|inserted|updated|modified)') as missing
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         where {}
         order by 1",
        user_tables("c", "n")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut missing = Vec::new();
    for row in &rows {
        if row.try_get::<bool, _>("missing")? {
            missing.push(text(row, "table_name")?);
        }
    }
    let measured = json!({ "tables": rows.len(), "without_timestamps": missing.len() });
    if missing.is_empty() {
        return Ok(CheckResult::pass(
            spec,
            all_of(
                rows.len(),
                "tables",
                "record when rows were created or changed",
            ),
        )
        .with_measured(measured));
    }
    Ok(spec
        .result(
            CheckStatus::Warn,
            format!(
                "{} of {} tables have no created/updated timestamptz column",
                missing.len(),
                rows.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(missing)))
}

// ---------------------------------------------------------------------------------------------
// NOT VALID constraints

pub const NOT_VALID_CONSTRAINTS: CheckSpec = CheckSpec {
    id: "pg.not-valid-constraints",
    area: CheckArea::Database,
    title: "Constraints left NOT VALID",
    severity: Severity::Low,
    threshold: "any check or foreign-key constraint not validated: warn",
    source: "pg-index-health not_valid_constraints; PgHero",
};

pub async fn not_valid_constraints(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &NOT_VALID_CONSTRAINTS;
    let rows = sqlx::query(&format!(
        "{MARK} select c.conrelid::regclass::text as table_name, c.conname::text as name,
                case c.contype when 'f' then 'foreign key' when 'c' then 'check' else c.contype::text end as kind
         from pg_constraint c
         join pg_namespace n on n.oid = c.connamespace
         where not c.convalidated and c.conrelid <> 0 and {}
         order by 1, 2",
        user_schema("n")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut evidence = Vec::new();
    for row in &rows {
        evidence.push(format!(
            "{}: {} constraint {}",
            text(row, "table_name")?,
            text(row, "kind")?,
            text(row, "name")?
        ));
    }
    let measured = json!({ "not_valid": rows.len() });
    if rows.is_empty() {
        return Ok(CheckResult::pass(spec, "Every constraint is validated").with_measured(measured));
    }
    Ok(spec
        .result(
            CheckStatus::Warn,
            format!(
                "{} constraint(s) are NOT VALID: existing rows were never checked (VALIDATE CONSTRAINT)",
                rows.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

// ---------------------------------------------------------------------------------------------
// Invalid indexes

pub const INVALID_INDEXES: CheckSpec = CheckSpec {
    id: "pg.invalid-indexes",
    area: CheckArea::Database,
    title: "Invalid indexes",
    severity: Severity::Medium,
    threshold: "any index marked invalid (indisvalid = false) that is not being built right now",
    source: "pg-index-health invalid_indexes; PgHero invalid_indexes",
};

pub async fn invalid_indexes(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &INVALID_INDEXES;
    let rows = sqlx::query(&format!(
        "{MARK} select i.indrelid::regclass::text as table_name, i.indexrelid::regclass::text as index_name
         from pg_index i
         join pg_class c on c.oid = i.indexrelid
         join pg_namespace n on n.oid = c.relnamespace
         where not i.indisvalid and {}
           and not exists (select 1 from pg_stat_progress_create_index p where p.index_relid = i.indexrelid)
         order by 1, 2",
        user_schema("n")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut evidence = Vec::new();
    for row in &rows {
        evidence.push(format!(
            "{} on {}",
            text(row, "index_name")?,
            text(row, "table_name")?
        ));
    }
    let measured = json!({ "invalid": rows.len() });
    if rows.is_empty() {
        return Ok(CheckResult::pass(spec, "No invalid index").with_measured(measured));
    }
    Ok(spec
        .result(
            CheckStatus::Fail,
            format!(
                "{} invalid index(es): writes maintain them but queries cannot use them (a failed CREATE INDEX CONCURRENTLY?)",
                rows.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

// ---------------------------------------------------------------------------------------------
// Bloat (dead-tuple estimate)

pub const BLOAT_MIN_ROWS: i64 = 1_000;

pub const BLOAT: CheckSpec = CheckSpec {
    id: "pg.bloat",
    area: CheckArea::Database,
    title: "Table bloat (dead-row estimate)",
    severity: Severity::Low,
    threshold: "dead rows over live plus dead rows, tables from 1,000 rows: > 20 % warn, > 40 % fail (an estimate from the statistics, not pgstattuple)",
    source: "pgdoctor dead-tuple thresholds; the minimum size is ours",
};

pub async fn bloat(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &BLOAT;
    let rows = sqlx::query(&format!(
        "{MARK} select relid::regclass::text as table_name,
                n_live_tup::int8 as live_rows, n_dead_tup::int8 as dead_rows,
                coalesce(greatest(last_vacuum, last_autovacuum)::text, 'never') as last_vacuum
         from pg_stat_user_tables
         where n_live_tup + n_dead_tup >= {BLOAT_MIN_ROWS}
           and n_dead_tup > 0.2 * (n_live_tup + n_dead_tup)
         order by n_dead_tup desc"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut status = CheckStatus::Pass;
    let mut evidence = Vec::new();
    for row in &rows {
        let live = int(row, "live_rows")?;
        let dead = int(row, "dead_rows")?;
        let share = dead as f64 / (live + dead).max(1) as f64 * 100.0;
        status = status.max(if share > 40.0 {
            CheckStatus::Fail
        } else {
            CheckStatus::Warn
        });
        evidence.push(format!(
            "{}: {share:.0} % dead ({dead} dead, {live} live rows), last vacuum {}",
            text(row, "table_name")?,
            text(row, "last_vacuum")?
        ));
    }
    let measured = json!({ "bloated_tables": rows.len() });
    if rows.is_empty() {
        return Ok(
            CheckResult::pass(spec, "No table carries many dead rows").with_measured(measured)
        );
    }
    Ok(spec
        .result(
            status,
            format!(
                "{} table(s) carry many dead rows: vacuum is not keeping up",
                rows.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

// ---------------------------------------------------------------------------------------------
// Schema smells

pub const SCHEMA_SMELLS: CheckSpec = CheckSpec {
    id: "pg.schema-smells",
    area: CheckArea::Database,
    title: "Column type smells",
    severity: Severity::Low,
    threshold: "any column typed json, timestamp without time zone, varchar(n), char(n) or money, or fed by serial instead of an identity: warn",
    source: "pg-index-health columns_with_json_type, columns_with_timestamp_or_timetz_type, columns_with_fixed_length_varchar, columns_with_char_type, columns_with_money_type, columns_with_serial_types",
};

pub async fn schema_smells(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &SCHEMA_SMELLS;
    let rows = sqlx::query(&format!(
        "{MARK} select * from (
            select c.oid::regclass::text as table_name, a.attname::text as column_name,
                   format_type(a.atttypid, a.atttypmod) as column_type,
                   case
                     when a.atttypid = 'json'::regtype then 'json (prefer jsonb)'
                     when a.atttypid = 'timestamp'::regtype then 'timestamp without time zone (prefer timestamptz)'
                     when a.atttypid = 'varchar'::regtype and a.atttypmod > 0 then 'varchar(n) (prefer text with a check)'
                     when a.atttypid = 'bpchar'::regtype then 'char(n) (prefer text)'
                     when a.atttypid = 'money'::regtype then 'money (prefer numeric)'
                     when a.attidentity = '' and exists (
                         select 1 from pg_depend d join pg_class s on s.oid = d.objid
                         where d.classid = 'pg_class'::regclass and d.refobjid = c.oid
                           and d.refobjsubid = a.attnum and d.deptype = 'a' and s.relkind = 'S')
                       then 'serial (prefer an identity column)'
                   end as smell
            from pg_attribute a
            join pg_class c on c.oid = a.attrelid
            join pg_namespace n on n.oid = c.relnamespace
            where a.attnum > 0 and not a.attisdropped and {}
         ) as columns
         where smell is not null
         order by 1, 2",
        user_tables("c", "n")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut evidence = Vec::new();
    for row in &rows {
        evidence.push(format!(
            "{}.{} {}: {}",
            text(row, "table_name")?,
            text(row, "column_name")?,
            text(row, "column_type")?,
            text(row, "smell")?
        ));
    }
    let measured = json!({ "columns": rows.len() });
    if rows.is_empty() {
        return Ok(CheckResult::pass(spec, "No column type smells").with_measured(measured));
    }
    Ok(spec
        .result(
            CheckStatus::Warn,
            format!(
                "{} column(s) use a type with a better alternative",
                rows.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(capped(evidence)))
}

/// "All 12 tables have a primary key", or "No tables in the client's schemas" when there are
/// none (an empty database passes, but should not read as if it had been checked at length).
fn all_of(count: usize, things: &str, predicate: &str) -> String {
    if count == 0 {
        format!("No {things} in the client's schemas")
    } else {
        format!("All {count} {things} {predicate}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(name: &str, keys: &[i16], unique: bool) -> IndexShape {
        IndexShape {
            table: "public.customers".into(),
            name: name.into(),
            method: "btree".into(),
            keys: keys.iter().map(|k| (*k, 1978, 0, 0)).collect(),
            unique,
            primary: false,
            valid: true,
            ..IndexShape::default()
        }
    }

    #[test]
    fn finds_identical_and_covered_indexes() {
        let indexes = vec![
            index("customers_email_idx", &[2], false),
            index("customers_email_again_idx", &[2], false),
            index("customers_email_name_idx", &[2, 3], false),
            index("customers_pkey", &[1], true),
            index("customers_id_name_idx", &[1, 3], false),
        ];
        let found = redundant_indexes(&indexes);
        let names: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|(a, b, why)| (indexes[*a].name.as_str(), indexes[*b].name.as_str(), *why))
            .collect();
        assert!(names.contains(&(
            "customers_email_idx",
            "customers_email_again_idx",
            "identical"
        )));
        assert!(names.contains(&(
            "customers_email_again_idx",
            "customers_email_name_idx",
            "covered"
        )));
        // A unique index is never the unneeded one of a covered pair.
        assert!(!names.iter().any(|(a, _, _)| *a == "customers_pkey"));
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn measures_sequences_against_their_columns() {
        let (own, column) = sequence_usage(1_800_000_000, 1, i64::MAX, 1, Some("int4"));
        assert!(own < 1.0);
        assert!(column.is_some_and(|c| c > 75.0));
        let (own, column) = sequence_usage(95, 1, 100, 1, None);
        assert!(own > 90.0);
        assert!(column.is_none());
    }
}
