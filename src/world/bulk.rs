//! A synthetic district at a realistic size, written straight into the database in large
//! batches: what the benchmarks (`scripts/bench-http`, `campaign-tracker generate`) and the
//! query-plan checks (`tests/api/plans.rs`) measure against. The demo district has 29
//! units; a measurement on it hid a per-request scan of the whole unit tree, because every
//! query is cheap on 29 rows.
//!
//! The tree follows the real shape (a district; towns and streets with their villages and
//! communities; departments beside them; grids under the villages), the records follow the
//! rows the API writes (the same row types), with a `created` event for every task and
//! item, and a closing one for those closed. Everything is deterministic for a seed.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::auth::Role;
use crate::campaigns::model::CampaignRow;
use crate::campaigns::rules::{CampaignKind, CampaignStatus};
use crate::categories::model::CategoryRow;
use crate::categories::rules::Severity;
use crate::db::schema::{rectification_numbers, units};
use crate::db::DbConnection;
use crate::directives::model::DirectiveRow;
use crate::directives::rules::Priority;
use crate::error::AppResult;
use crate::events::{Entity, EventRow};
use crate::ids::{
    CampaignId, CategoryId, DirectiveId, EventId, RectificationId, TaskId, UnitId, UserId,
};
use crate::rectifications::model::ItemRow;
use crate::rectifications::rules::{ItemStatus, Source};
use crate::tasks::model::TaskRow;
use crate::tasks::rules::TaskStatus;
use crate::units::UnitKind;
use crate::users::model::UserRow;

/// How big a district to make.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Scale {
    /// Towns and streets under the district.
    pub towns: usize,
    /// Departments beside them.
    pub departments: usize,
    /// Villages and communities, spread over the towns.
    pub villages: usize,
    /// Grids, spread over the villages.
    pub grids: usize,
    pub users: usize,
    pub campaigns: usize,
    pub items: usize,
    pub tasks: usize,
    pub seed: u64,
}

impl Scale {
    /// The benchmark's district: 1,001 units above the grids (the district, 40 towns and
    /// streets, 60 departments, 900 villages and communities), 2,000 grids, 100 users,
    /// 100,000 rectification items and 50,000 tasks.
    pub const BENCH: Scale = Scale {
        towns: 40,
        departments: 60,
        villages: 900,
        grids: 2_000,
        users: 100,
        campaigns: 5,
        items: 100_000,
        tasks: 50_000,
        seed: 2020,
    };

    /// The plan checks' district: 10,000 units, 100,000 items.
    pub const PLAN_CHECK: Scale = Scale {
        towns: 50,
        departments: 50,
        villages: 2_900,
        grids: 7_000,
        users: 60,
        campaigns: 3,
        items: 100_000,
        tasks: 20_000,
        seed: 7,
    };

    pub fn units(&self) -> usize {
        1 + self.towns + self.departments + self.villages + self.grids
    }
}

/// A user the generator made, to log in as.
#[derive(Debug, Clone, Serialize)]
pub struct Login {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub unit_id: UnitId,
}

/// What was made, for the caller to aim at.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub scale: Scale,
    pub district: UnitId,
    /// Every user shares this password.
    pub password: String,
    pub admin: Login,
    pub leader: Login,
    /// The district's office: the issuer's side of every generated task.
    pub office: Login,
    /// The office of the first town.
    pub town_office: Login,
    /// An officer of the first town.
    pub town_officer: Login,
    /// The inspector of the first grid.
    pub inspector: Login,
    /// The first town, a village of it and a grid of that village.
    pub town: UnitId,
    pub village: UnitId,
    pub grid: UnitId,
    /// A point inside `grid`, for reports.
    pub grid_point: (f64, f64),
    /// A category routed to towns, for reports.
    pub category: CategoryId,
    pub categories: Vec<CategoryId>,
    /// Every town and street (parents for new units), and departments (which hold no
    /// generated work: targets for reassigning it).
    pub towns: Vec<UnitId>,
    pub departments: Vec<UnitId>,
    /// Where the grids lie: grid `g` is the square of side `size` degrees whose south-west
    /// corner is `(lon0 + (g % per_row) * size, lat0 + (g / per_row) * size)`.
    pub lattice: Lattice,
    pub campaign: CampaignId,
    /// An item of the first town, and an open task of it (for transitions).
    pub item: RectificationId,
    pub task: TaskId,
}

/// The grids' layout; see [`Generated::lattice`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Lattice {
    pub lon0: f64,
    pub lat0: f64,
    pub size: f64,
    pub per_row: usize,
    pub grids: usize,
}

struct Unit {
    id: UnitId,
    path: String,
}

const LON0: f64 = 115.30;
const LAT0: f64 = 35.10;
/// Each grid is a square this many degrees wide (about 220 m), on a lattice.
const GRID_SIZE: f64 = 0.002;
const GRIDS_PER_ROW: usize = 200;
/// Rows per INSERT: under both backends' limits on bound parameters.
const BATCH: usize = 400;

/// Writes a district of `scale` into an empty, migrated database. `password_hash` is the
/// hash every user gets (hashing is slow on purpose; one hash serves all).
pub fn generate(
    conn: &mut DbConnection,
    scale: Scale,
    now: NaiveDateTime,
    password: &str,
    password_hash: &str,
) -> AppResult<Generated> {
    let mut rng = StdRng::seed_from_u64(scale.seed);
    // Batch by batch, each in its own transaction: one transaction over the whole load
    // would hold back every reader of the sync feed on PostgreSQL while it ran (the feed
    // stops before the oldest running transaction).
    {
        // The tree.
        let district = Unit {
            id: UnitId::new(),
            path: String::new(),
        };
        let district = Unit {
            path: format!("/{}/", district.id),
            id: district.id,
        };
        let mut rows: Vec<UnitValues> = vec![unit_values(
            &district,
            "BD",
            "压测高新区",
            UnitKind::District,
            None,
            None,
            now,
        )];
        let mut towns = Vec::new();
        for t in 0..scale.towns {
            let unit = child(&district);
            let kind = if t % 3 == 2 {
                UnitKind::Street
            } else {
                UnitKind::Town
            };
            let suffix = if kind == UnitKind::Street {
                "街道"
            } else {
                "镇"
            };
            rows.push(unit_values(
                &unit,
                &format!("BD-T{t:03}"),
                &format!("压测第{t}{suffix}"),
                kind,
                Some(district.id),
                None,
                now,
            ));
            towns.push(unit);
        }
        let mut departments = Vec::new();
        for d in 0..scale.departments {
            let unit = child(&district);
            departments.push(unit.id);
            rows.push(unit_values(
                &unit,
                &format!("BD-D{d:03}"),
                &format!("压测第{d}部门"),
                UnitKind::Department,
                Some(district.id),
                None,
                now,
            ));
        }
        let mut villages = Vec::new();
        for v in 0..scale.villages {
            let town = &towns[v % towns.len().max(1)];
            let unit = child(town);
            rows.push(unit_values(
                &unit,
                &format!("BD-V{v:04}"),
                &format!("压测第{v}村"),
                if v % 4 == 3 {
                    UnitKind::Community
                } else {
                    UnitKind::Village
                },
                Some(town.id),
                None,
                now,
            ));
            villages.push((unit, v % towns.len().max(1)));
        }
        let mut grids = Vec::new();
        for g in 0..scale.grids {
            let (village, town) = &villages[g % villages.len().max(1)];
            let unit = child(village);
            let (lon, lat) = (
                LON0 + (g % GRIDS_PER_ROW) as f64 * GRID_SIZE,
                LAT0 + (g / GRIDS_PER_ROW) as f64 * GRID_SIZE,
            );
            rows.push(unit_values(
                &unit,
                &format!("BD-G{g:05}"),
                &format!("压测第{g}网格"),
                UnitKind::Grid,
                Some(village.id),
                Some((lon, lat)),
                now,
            ));
            grids.push((unit, village.id, *town, (lon, lat)));
        }
        for chunk in rows.chunks(BATCH) {
            crate::on_backend!(conn, |c| diesel::insert_into(units::table)
                .values(chunk.iter().map(|r| r.as_insert()).collect::<Vec<_>>())
                .execute(c))?;
        }

        // People: one admin, leaders, an office and officers per town, inspectors who
        // lead grids.
        let mut users: Vec<UserRow> = Vec::new();
        let user = |users: &mut Vec<UserRow>, role: Role, unit: UnitId, name: String| {
            let row = UserRow {
                id: UserId::new(),
                username: name.clone(),
                display_name: name,
                password_hash: password_hash.to_string(),
                role,
                unit_id: unit,
                active: true,
                created_at: now,
                updated_at: now,
                must_change_password: false,
                version: 1,
            };
            users.push(row.clone());
            Login {
                id: row.id,
                username: row.username,
                role,
                unit_id: unit,
            }
        };
        let admin = user(&mut users, Role::Admin, district.id, "bench-admin".into());
        let leader = user(&mut users, Role::Leader, district.id, "bench-leader".into());
        let district_office = user(&mut users, Role::Office, district.id, "bench-office".into());
        let town_office = user(
            &mut users,
            Role::Office,
            towns[0].id,
            "bench-town-office".into(),
        );
        let town_officer = user(
            &mut users,
            Role::Officer,
            towns[0].id,
            "bench-town-officer".into(),
        );
        let inspector = user(
            &mut users,
            Role::Inspector,
            grids[0].1,
            "bench-inspector".into(),
        );
        let mut officers = vec![town_officer.id];
        let mut inspectors = vec![(inspector.id, 0usize)];
        let mut i = 0;
        while users.len() < scale.users.max(6) {
            match i % 3 {
                0 => {
                    let town = &towns[(i / 3) % towns.len()];
                    officers.push(
                        user(
                            &mut users,
                            Role::Officer,
                            town.id,
                            format!("bench-officer-{i}"),
                        )
                        .id,
                    );
                }
                1 => {
                    let g = (i / 3 + 1) % grids.len();
                    inspectors.push((
                        user(
                            &mut users,
                            Role::Inspector,
                            grids[g].1,
                            format!("bench-inspector-{i}"),
                        )
                        .id,
                        g,
                    ));
                }
                _ => {
                    let town = &towns[(i / 3) % towns.len()];
                    user(
                        &mut users,
                        Role::Office,
                        town.id,
                        format!("bench-office-{i}"),
                    );
                }
            }
            i += 1;
        }
        for chunk in users.chunks(BATCH) {
            crate::on_backend!(conn, |c| diesel::insert_into(
                crate::db::schema::users::table
            )
            .values(chunk)
            .execute(c))?;
        }
        for (inspector, g) in &inspectors {
            diesel::update(units::table.find(grids[*g].0.id))
                .set(units::leader_id.eq(Some(*inspector)))
                .execute(conn)?;
        }

        // What problems are reported as.
        let categories: Vec<CategoryRow> = [
            ("BENCH-POSTER", "公益广告牌破损", UnitKind::Town),
            ("BENCH-STALL", "占道经营", UnitKind::Town),
            ("BENCH-LITTER", "卫生死角", UnitKind::Village),
            ("BENCH-GATE", "节制闸故障", UnitKind::Town),
        ]
        .into_iter()
        .map(|(code, name, route)| CategoryRow {
            id: CategoryId::new(),
            code: code.into(),
            name: name.into(),
            description: String::new(),
            default_severity: Severity::Normal,
            deadline_hours: 72,
            route_kind: route,
            route_unit_id: None,
            attributes: "[]".into(),
            active: true,
            managed_by: district.id,
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .collect();
        crate::on_backend!(conn, |c| diesel::insert_into(
            crate::db::schema::categories::table
        )
        .values(&categories)
        .execute(c))?;

        // Campaign work.
        let year_ago = now - TimeDelta::days(365);
        let campaigns: Vec<CampaignRow> = (0..scale.campaigns.max(1))
            .map(|c| CampaignRow {
                id: CampaignId::new(),
                kind: [CampaignKind::CivilizedCity, CampaignKind::FloodPrep][c % 2],
                name: format!("压测专项行动{c}"),
                description: String::new(),
                starts_on: year_ago.date(),
                ends_on: (now + TimeDelta::days(180)).date(),
                status: CampaignStatus::Active,
                lead_unit_id: district.id,
                scheme_id: None,
                created_by: district_office.id,
                created_at: year_ago,
                updated_at: year_ago,
                version: 1,
            })
            .collect();
        crate::on_backend!(conn, |c| diesel::insert_into(
            crate::db::schema::campaigns::table
        )
        .values(&campaigns)
        .execute(c))?;
        let directives: Vec<DirectiveRow> = (0..campaigns.len() * 10)
            .map(|d| DirectiveRow {
                id: DirectiveId::new(),
                campaign_id: campaigns[d % campaigns.len()].id,
                meeting_id: None,
                unit_id: district.id,
                title: format!("压测督办事项{d}"),
                body: String::new(),
                issued_by: district_office.id,
                priority: [Priority::Normal, Priority::High, Priority::Urgent][d % 3],
                default_due_at: None,
                created_at: year_ago,
                updated_at: year_ago,
                version: 1,
            })
            .collect();
        crate::on_backend!(conn, |c| diesel::insert_into(
            crate::db::schema::directives::table
        )
        .values(&directives)
        .execute(c))?;

        let mut events: Vec<EventRow> = Vec::new();
        let flush = |conn: &mut DbConnection, events: &mut Vec<EventRow>| -> AppResult<()> {
            for chunk in events.chunks(BATCH) {
                crate::on_backend!(conn, |c| diesel::insert_into(
                    crate::db::schema::events::table
                )
                .values(chunk)
                .execute(c))?;
            }
            events.clear();
            Ok(())
        };

        // Tasks, over the towns and villages, created over the past year.
        let mut first_task = None;
        let mut tasks: Vec<TaskRow> = Vec::with_capacity(BATCH);
        for n in 0..scale.tasks {
            let directive = &directives[n % directives.len()];
            let unit = if n % 2 == 0 {
                towns[n / 2 % towns.len()].id
            } else {
                villages[n / 2 % villages.len()].0.id
            };
            let created = year_ago
                + TimeDelta::seconds((n as i64 * 365 * 86_400) / scale.tasks.max(1) as i64);
            let due = created + TimeDelta::days(rng.gen_range(3..30));
            let status = pick(
                &mut rng,
                &[
                    (TaskStatus::Accepted, 55),
                    (TaskStatus::InProgress, 20),
                    (TaskStatus::Assigned, 10),
                    (TaskStatus::Submitted, 10),
                    (TaskStatus::Cancelled, 5),
                ],
            );
            let closed = due + TimeDelta::hours(rng.gen_range(-240..96));
            let closed = (closed.min(now)).max(created + TimeDelta::hours(1));
            let row = TaskRow {
                id: TaskId::new(),
                directive_id: directive.id,
                campaign_id: directive.campaign_id,
                unit_id: unit,
                assignee_id: None,
                title: format!("压测任务{n}：落实{}", directive.title),
                priority: directive.priority,
                due_at: due,
                original_due_at: due,
                status,
                progress: match status {
                    TaskStatus::Accepted | TaskStatus::Submitted => 100,
                    TaskStatus::InProgress => rng.gen_range(10..90),
                    _ => 0,
                },
                rework_count: if rng.gen_ratio(1, 10) { 1 } else { 0 },
                weight: 1,
                extension_due_at: None,
                extension_note: None,
                extension_requested_by: None,
                extension_requested_at: None,
                started_at: (status != TaskStatus::Assigned)
                    .then_some(created + TimeDelta::hours(2)),
                submitted_at: matches!(status, TaskStatus::Submitted | TaskStatus::Accepted)
                    .then_some(closed),
                submitted_by: matches!(status, TaskStatus::Submitted | TaskStatus::Accepted)
                    .then_some(officers[n % officers.len()]),
                accepted_at: (status == TaskStatus::Accepted).then_some(closed),
                cancelled_at: (status == TaskStatus::Cancelled).then_some(closed),
                created_by: district_office.id,
                created_at: created,
                updated_at: created,
                version: 1,
            };
            // The first task of the first town, one in progress if there is one.
            let open = matches!(first_task, Some((_, TaskStatus::InProgress)));
            if unit == towns[0].id
                && !open
                && (first_task.is_none() || status == TaskStatus::InProgress)
            {
                first_task = Some((row.id, status));
            }
            events.push(event(
                Entity::Task,
                row.id.to_string(),
                district_office.id,
                created,
                "created",
                None,
                Some(TaskStatus::Assigned.as_str()),
            ));
            if let Some(at) = row.accepted_at.or(row.cancelled_at) {
                events.push(event(
                    Entity::Task,
                    row.id.to_string(),
                    district_office.id,
                    at,
                    "closed",
                    Some("submitted"),
                    Some(status.as_str()),
                ));
            }
            tasks.push(row);
            if tasks.len() == BATCH {
                crate::on_backend!(conn, |c| diesel::insert_into(
                    crate::db::schema::tasks::table
                )
                .values(&tasks)
                .execute(c))?;
                tasks.clear();
                flush(conn, &mut events)?;
            }
        }
        if !tasks.is_empty() {
            crate::on_backend!(conn, |c| diesel::insert_into(
                crate::db::schema::tasks::table
            )
            .values(&tasks)
            .execute(c))?;
        }
        flush(conn, &mut events)?;

        // Rectification items, reported in the grids over the past year.
        let number_year = crate::rectifications::rules::number_year(now);
        let mut first_item = None;
        let mut items: Vec<ItemRow> = Vec::with_capacity(BATCH);
        for n in 0..scale.items {
            let g = rng.gen_range(0..grids.len());
            let (grid, village, town, (lon, lat)) = &grids[g];
            let category = &categories[n % categories.len()];
            let unit = if category.route_kind == UnitKind::Village {
                *village
            } else {
                towns[*town].id
            };
            let created = year_ago
                + TimeDelta::seconds((n as i64 * 365 * 86_400) / scale.items.max(1) as i64);
            let due = created + TimeDelta::hours(72);
            let status = pick(
                &mut rng,
                &[
                    (ItemStatus::Accepted, 60),
                    (ItemStatus::Assigned, 10),
                    (ItemStatus::InProgress, 12),
                    (ItemStatus::Submitted, 8),
                    (ItemStatus::Cancelled, 5),
                    (ItemStatus::Duplicate, 3),
                    (ItemStatus::Reported, 2),
                ],
            );
            let closed_at = matches!(
                status,
                ItemStatus::Accepted | ItemStatus::Cancelled | ItemStatus::Duplicate
            )
            .then(|| {
                (due + TimeDelta::hours(rng.gen_range(-60..48)))
                    .min(now)
                    .max(created + TimeDelta::hours(1))
            });
            let row = ItemRow {
                id: RectificationId::new(),
                number: crate::rectifications::rules::number(number_year - 1, n as i32 + 1),
                source: pick(
                    &mut rng,
                    &[
                        (Source::Patrol, 60),
                        (Source::Inspection, 15),
                        (Source::Unannounced, 10),
                        (Source::Public, 15),
                    ],
                ),
                category_id: category.id,
                description: format!("压测整改事项{n}：{}", category.name),
                lat: lat + GRID_SIZE * rng.gen_range(0.1..0.9),
                lon: lon + GRID_SIZE * rng.gen_range(0.1..0.9),
                address: format!("{}附近", grid.id.as_str().get(..8).unwrap_or("")),
                grid_id: grid.id,
                unit_id: (status != ItemStatus::Reported).then_some(unit),
                severity: Severity::Normal,
                due_at: due,
                original_due_at: due,
                attributes: "{}".into(),
                campaign_id: Some(campaigns[n % campaigns.len()].id),
                site_id: None,
                duplicate_of: None,
                reported_by: inspectors[g % inspectors.len()].0,
                status,
                rework_count: if rng.gen_ratio(1, 8) { 1 } else { 0 },
                extension_due_at: None,
                extension_note: None,
                extension_requested_by: None,
                extension_requested_at: None,
                assigned_at: (status != ItemStatus::Reported).then_some(created),
                started_at: matches!(
                    status,
                    ItemStatus::InProgress | ItemStatus::Submitted | ItemStatus::Accepted
                )
                .then_some(created + TimeDelta::hours(3)),
                submitted_at: matches!(status, ItemStatus::Submitted | ItemStatus::Accepted)
                    .then_some(closed_at.unwrap_or(due)),
                submitted_by: matches!(status, ItemStatus::Submitted | ItemStatus::Accepted)
                    .then_some(officers[n % officers.len()]),
                closed_at,
                created_at: created,
                updated_at: closed_at.unwrap_or(created),
                version: 1,
            };
            // The first item of the first town, an open one if there is one.
            let open = matches!(first_item, Some((_, ItemStatus::InProgress)));
            if row.unit_id == Some(towns[0].id)
                && !open
                && (first_item.is_none() || status == ItemStatus::InProgress)
            {
                first_item = Some((row.id, status));
            }
            events.push(event(
                Entity::Rectification,
                row.id.to_string(),
                row.reported_by,
                created,
                "created",
                None,
                Some("assigned"),
            ));
            if let Some(at) = row.closed_at {
                events.push(event(
                    Entity::Rectification,
                    row.id.to_string(),
                    district_office.id,
                    at,
                    "closed",
                    Some("submitted"),
                    Some(status.as_str()),
                ));
            }
            items.push(row);
            if items.len() == BATCH {
                crate::on_backend!(conn, |c| diesel::insert_into(
                    crate::db::schema::rectifications::table
                )
                .values(&items)
                .execute(c))?;
                items.clear();
                flush(conn, &mut events)?;
            }
        }
        if !items.is_empty() {
            crate::on_backend!(conn, |c| diesel::insert_into(
                crate::db::schema::rectifications::table
            )
            .values(&items)
            .execute(c))?;
        }
        flush(conn, &mut events)?;
        // Reports of this year continue the numbering; the generated ones are last year's.
        crate::on_backend!(conn, |c| diesel::insert_into(rectification_numbers::table)
            .values((
                rectification_numbers::year.eq(number_year - 1),
                rectification_numbers::last.eq(scale.items as i32),
            ))
            .execute(c))?;

        let (grid, village, _, (lon, lat)) = &grids[0];
        // Statistics for the planner, as a database that grew to this size would have.
        diesel::sql_query("ANALYZE").execute(conn)?;
        Ok(Generated {
            scale,
            district: district.id,
            password: password.to_string(),
            admin,
            leader,
            office: district_office,
            town_office,
            town_officer,
            inspector,
            town: towns[0].id,
            village: *village,
            grid: grid.id,
            grid_point: (lon + GRID_SIZE / 2.0, lat + GRID_SIZE / 2.0),
            category: categories[0].id,
            categories: categories.iter().map(|c| c.id).collect(),
            towns: towns.iter().map(|t| t.id).collect(),
            departments,
            lattice: Lattice {
                lon0: LON0,
                lat0: LAT0,
                size: GRID_SIZE,
                per_row: GRIDS_PER_ROW,
                grids: scale.grids,
            },
            campaign: campaigns[0].id,
            item: first_item.map_or_else(RectificationId::new, |(id, _)| id),
            task: first_task.map_or_else(TaskId::new, |(id, _)| id),
        })
    }
}

fn child(parent: &Unit) -> Unit {
    let id = UnitId::new();
    Unit {
        path: format!("{}{id}/", parent.path),
        id,
    }
}

fn pick<T: Copy>(rng: &mut StdRng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (value, weight) in weighted {
        if roll < *weight {
            return *value;
        }
        roll -= weight;
    }
    weighted[0].0
}

fn event(
    entity: Entity,
    entity_id: String,
    actor: UserId,
    at: NaiveDateTime,
    action: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> EventRow {
    EventRow {
        id: EventId::new(),
        entity,
        entity_id,
        actor_id: Some(actor),
        at,
        action: action.into(),
        from_status: from.map(str::to_string),
        to_status: to.map(str::to_string),
        note: None,
        changes: "{}".into(),
    }
}

/// A unit's columns, as the batch insert takes them.
struct UnitValues {
    id: UnitId,
    code: String,
    name: String,
    kind: UnitKind,
    parent_id: Option<UnitId>,
    path: String,
    boundary: Option<String>,
    bbox: Option<(f64, f64, f64, f64)>,
    now: NaiveDateTime,
}

#[allow(clippy::type_complexity)]
impl UnitValues {
    fn as_insert(
        &self,
    ) -> (
        diesel::dsl::Eq<units::id, UnitId>,
        diesel::dsl::Eq<units::code, &str>,
        diesel::dsl::Eq<units::name, &str>,
        diesel::dsl::Eq<units::kind, UnitKind>,
        diesel::dsl::Eq<units::parent_id, Option<UnitId>>,
        diesel::dsl::Eq<units::path, &str>,
        diesel::dsl::Eq<units::boundary, Option<&str>>,
        (
            diesel::dsl::Eq<units::min_lon, Option<f64>>,
            diesel::dsl::Eq<units::min_lat, Option<f64>>,
            diesel::dsl::Eq<units::max_lon, Option<f64>>,
            diesel::dsl::Eq<units::max_lat, Option<f64>>,
        ),
        diesel::dsl::Eq<units::created_at, NaiveDateTime>,
        diesel::dsl::Eq<units::updated_at, NaiveDateTime>,
    ) {
        (
            units::id.eq(self.id),
            units::code.eq(self.code.as_str()),
            units::name.eq(self.name.as_str()),
            units::kind.eq(self.kind),
            units::parent_id.eq(self.parent_id),
            units::path.eq(self.path.as_str()),
            units::boundary.eq(self.boundary.as_deref()),
            (
                units::min_lon.eq(self.bbox.map(|b| b.0)),
                units::min_lat.eq(self.bbox.map(|b| b.1)),
                units::max_lon.eq(self.bbox.map(|b| b.2)),
                units::max_lat.eq(self.bbox.map(|b| b.3)),
            ),
            units::created_at.eq(self.now),
            units::updated_at.eq(self.now),
        )
    }
}

fn unit_values(
    unit: &Unit,
    code: &str,
    name: &str,
    kind: UnitKind,
    parent_id: Option<UnitId>,
    corner: Option<(f64, f64)>,
    now: NaiveDateTime,
) -> UnitValues {
    let square = corner.map(|(lon, lat)| {
        let (x1, y1) = (lon + GRID_SIZE, lat + GRID_SIZE);
        (
            format!(
                r#"{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{x1},{lat}],[{x1},{y1}],[{lon},{y1}],[{lon},{lat}]]]}}"#
            ),
            (lon, lat, x1, y1),
        )
    });
    UnitValues {
        id: unit.id,
        code: code.into(),
        name: name.into(),
        kind,
        parent_id,
        path: unit.path.clone(),
        boundary: square.as_ref().map(|(json, _)| json.clone()),
        bbox: square.map(|(_, bbox)| bbox),
        now,
    }
}
