//! The authorization matrix: every operation in `openapi/openapi.json` × every caller (the
//! five roles, and no token at all) × a target inside the caller's scope, one outside it
//! and, for `{id}` paths, an id that does not exist (and, where a row asks, a target the
//! caller owns) — each with the status it must get.
//!
//! For every case, [`run_case`] checks that
//! - the status is the one the table states: `403` where the role may never act (admin-only
//!   operations refuse before any lookup, so out-of-scope and unknown ids get `403` too),
//!   `404` where the target is outside the caller's scope (indistinguishable from a missing
//!   id), `401` without a token; every error answer is problem+json;
//! - no response carries a secret (password hash, token hash, argon2 string); only login and
//!   refresh carry a refresh token; no response echoes an access or fixture refresh token;
//! - no response returns an object the caller may not see (its `id`, top level or in
//!   `items`, checked against [`VISIBLE`]), and an unfiltered list returns exactly what the
//!   caller may see;
//! - a write changes the database if and only if it answered 2xx, and a created resource
//!   can then be fetched by an admin at its `Location`; reads change nothing.
//!
//! [`every_spec_operation_has_a_row`] fails when the spec has an operation the table lacks
//! (or the table one the spec lacks), and when the table expects a status the spec does not
//! document. [`server_set_fields_are_rejected`] sends every JSON body of the spec with one
//! field its request schema lacks (`id`, `created_at`, `path`, `password_hash`, `role`…)
//! and expects 422 naming that field, with nothing written. [`authz_visibility_sweep`]
//! reads every fixture record of every kind as every role, against [`VISIBLE`].
//!
//! # Adding an endpoint
//!
//! Add one `row(…)` to [`rows`]: the operation exactly as the spec spells it
//! (`"PATCH /api/v1/things/{id}"`), the [`Kind`] of record it targets, how to build the
//! request from a [`Ctx`] (`c.at()` fills `{id}` with the target, `.json(…)` adds a body,
//! `c.n` makes codes unique), and an [`Expect`] naming each caller's statuses (`inside`,
//! `outside`, `missing` for `{id}` paths, `owned` where the caller's ownership matters).
//! A new kind of record gets a line in [`TARGETS`] (which fixture record is the inside and
//! the outside target), a column in [`VISIBLE`], and its records in the fixture world.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use diesel::prelude::*;
use serde_json::{json, Value};

use campaign_tracker::activities::model::ActivityRow;
use campaign_tracker::attachments::model::AttachmentRow;
use campaign_tracker::auth::sessions::{self, RefreshTokenRow};
use campaign_tracker::campaigns::model::CampaignRow;
use campaign_tracker::categories::model::CategoryRow;
use campaign_tracker::db::schema::{
    activities, attachments, campaigns, categories, checklists, directives, events, inspections,
    meeting_units, meetings, notifications, open311_keys, open311_reports, pairings, patrol_points,
    patrol_visits, patrols, rectification_attachments, rectifications, refresh_tokens, sites,
    tasks, units, users,
};
use campaign_tracker::directives::model::DirectiveRow;
use campaign_tracker::events::EventRow;
use campaign_tracker::ids::{SessionId, UserId};
use campaign_tracker::meetings::model::MeetingRow;
use campaign_tracker::pairings::model::PairingRow;
use campaign_tracker::patrols::model::PatrolRow;
use campaign_tracker::rectifications::model::ItemRow;
use campaign_tracker::sites::model::SiteRow;
use campaign_tracker::tasks::model::TaskRow;
use campaign_tracker::units::model::UnitRow;
use campaign_tracker::users::model::UserRow;

use crate::common::*;

const SPEC: &str = include_str!("../../openapi/openapi.json");

/// Every case is run by each of these: the fixture users (keys of `World::tokens`), then a
/// request without a token, which is the admin's inside request with its token removed.
/// `partner` is an officer of the department P, which is paired (包联) with towns A and B.
const CALLERS: [&str; 7] = [
    "admin",
    "leader",
    "office",
    "officer",
    "inspector",
    "partner",
    ANON,
];
const ANON: &str = "anon";

/// Operations whose responses carry tokens (the only ones that may).
const ISSUES_TOKENS: [&str; 2] = ["/api/v1/auth/login", "/api/v1/auth/refresh"];

/// What a row's target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No record: a collection, the caller's own session or account.
    None,
    Unit,
    /// A unit nothing refers to, so that an allowed delete succeeds.
    LeafUnit,
    User,
    Pairing,
    Campaign,
    Meeting,
    Directive,
    /// A task in progress.
    Task,
    /// A submitted task, waiting for the issuer's side.
    SubmittedTask,
    Activity,
    /// A notification of the office's (the only caller that finds its own).
    Notification,
    /// A category of problem, managed by a town's office.
    Category,
    /// A site, with a town as its responsible unit.
    Site,
    /// An uploaded file: XA is the officer's, XB officer_b's.
    Attachment,
    /// A rectification item being fixed, routed to a town.
    Item,
    /// A rectification item whose fix waits to be checked.
    SubmittedItem,
    /// A patrol going on: PA is the inspector's, in grid GA.
    Patrol,
    /// A checklist, managed by a town's office.
    Checklist,
    /// An inspection of a site.
    Inspection,
    /// An Open311 API key (admins only, so inside and outside are two keys).
    Open311Key,
}

/// Where a kind's targets are, by fixture key.
struct Target {
    kind: Kind,
    /// The `World` map and `VISIBLE` column its records belong to.
    collection: &'static str,
    /// Inside the scope of most callers (the A side).
    inside: &'static str,
    /// Inside the inspector's scope (its grid GA, which holds the inspector: only admins
    /// may delete, and they never get GA).
    inspector: &'static str,
    /// Inside the partner's scope (what its pairings let it read).
    partner: &'static str,
    /// Outside most callers' scope (the B side).
    outside: &'static str,
    /// Outside the partner's scope (town C, paired with another department).
    partner_outside: &'static str,
}

const TARGETS: &[Target] = &[
    Target {
        kind: Kind::Open311Key,
        collection: "open311",
        inside: "OKA",
        inspector: "OKA",
        partner: "OKA",
        outside: "OKB",
        partner_outside: "OKB",
    },
    Target {
        kind: Kind::Unit,
        collection: "units",
        inside: "A",
        inspector: "GA",
        partner: "A",
        outside: "B",
        partner_outside: "C",
    },
    Target {
        kind: Kind::LeafUnit,
        collection: "units",
        inside: "GA2",
        inspector: "GA",
        partner: "GA2",
        // GB holds a site: a leaf, but not one that may be deleted.
        outside: "GB2",
        partner_outside: "GC",
    },
    Target {
        kind: Kind::User,
        collection: "users",
        inside: "officer",
        inspector: "inspector",
        partner: "partner",
        outside: "officer_b",
        partner_outside: "officer_b",
    },
    Target {
        kind: Kind::Pairing,
        collection: "pairings",
        inside: "PA",
        inspector: "PA",
        partner: "PA",
        outside: "PB",
        partner_outside: "PXC",
    },
    Target {
        kind: Kind::Campaign,
        collection: "campaigns",
        inside: "CA",
        inspector: "CA",
        partner: "CA",
        outside: "CB",
        partner_outside: "CC",
    },
    Target {
        kind: Kind::Meeting,
        collection: "meetings",
        inside: "MA",
        inspector: "MA",
        partner: "MA",
        outside: "MB",
        partner_outside: "MC",
    },
    Target {
        kind: Kind::Directive,
        collection: "directives",
        inside: "DA",
        inspector: "DA",
        partner: "DA",
        outside: "DB",
        partner_outside: "DC",
    },
    Target {
        kind: Kind::Task,
        collection: "tasks",
        inside: "TA",
        inspector: "TGA",
        partner: "TA",
        outside: "TB",
        partner_outside: "TC",
    },
    Target {
        kind: Kind::SubmittedTask,
        collection: "tasks",
        inside: "TS",
        inspector: "TS",
        partner: "TS",
        outside: "TBS",
        partner_outside: "TCS",
    },
    Target {
        kind: Kind::Activity,
        collection: "activities",
        inside: "AA",
        inspector: "AA",
        partner: "AA",
        outside: "AB",
        partner_outside: "AC",
    },
    Target {
        kind: Kind::Notification,
        collection: "notifications",
        inside: "NOFFICE",
        inspector: "NOFFICE",
        partner: "NOFFICE",
        outside: "NOFFICE_B",
        partner_outside: "NOFFICE_B",
    },
    Target {
        kind: Kind::Category,
        collection: "categories",
        inside: "KA",
        inspector: "KA",
        partner: "KA",
        outside: "KB",
        partner_outside: "KC",
    },
    Target {
        kind: Kind::Site,
        collection: "sites",
        inside: "SA",
        inspector: "SA",
        partner: "SA",
        outside: "SB",
        partner_outside: "SC",
    },
    Target {
        kind: Kind::Item,
        collection: "rectifications",
        inside: "IA",
        inspector: "IA",
        partner: "IA",
        outside: "IB",
        partner_outside: "IC",
    },
    Target {
        kind: Kind::SubmittedItem,
        collection: "rectifications",
        inside: "ISA",
        inspector: "ISA",
        partner: "ISA",
        outside: "ISB",
        partner_outside: "ISC",
    },
    Target {
        kind: Kind::Patrol,
        collection: "patrols",
        inside: "PA",
        inspector: "PA",
        partner: "PA",
        outside: "PB",
        partner_outside: "PC",
    },
    Target {
        kind: Kind::Checklist,
        collection: "checklists",
        inside: "KLA",
        inspector: "KLA",
        partner: "KLA",
        outside: "KLB",
        partner_outside: "KLC",
    },
    Target {
        kind: Kind::Inspection,
        collection: "inspections",
        inside: "INA",
        inspector: "INA",
        partner: "INA",
        outside: "INB",
        partner_outside: "INC",
    },
    Target {
        kind: Kind::Attachment,
        collection: "attachments",
        inside: "XA",
        inspector: "XA",
        partner: "XA",
        outside: "XB",
        partner_outside: "XB",
    },
];

/// Per kind and caller: the fixture key of a record the caller owns (the one it submitted,
/// reported, is assigned…), for rows whose answer depends on ownership (`Cases::owned`).
const OWNED: &[(Kind, &str, &str)] = &[
    (Kind::User, "admin", "admin"),
    // The office submitted TSO itself: it may not accept its own submission.
    (Kind::SubmittedTask, "office", "TSO"),
    // ISO: reported by the inspector, fixed by the office: the inspector checks it, the
    // office may not.
    (Kind::SubmittedItem, "office", "ISO"),
    (Kind::SubmittedItem, "inspector", "ISO"),
];

fn owned_key(kind: Kind, caller: &str) -> Option<&'static str> {
    OWNED
        .iter()
        .find(|(k, c, _)| *k == kind && *c == caller)
        .map(|(_, _, key)| *key)
}

/// The collections of the fixture, in the order they are checked.
const COLLECTIONS: [&str; 15] = [
    "units",
    "pairings",
    "users",
    "campaigns",
    "meetings",
    "directives",
    "tasks",
    "activities",
    "categories",
    "sites",
    "attachments",
    "rectifications",
    "patrols",
    "checklists",
    "inspections",
];

/// What each caller may see of the fixture, by collection (keys of `World`), written out
/// rather than derived so that the test can disagree with the scoping code. [`fixture`]
/// adds to the world: the spare grids GA2 under VA and GB2 under VB, town C with grid GC,
/// department X paired with C (PXC), the partner (an officer of P), a category managed by
/// each of A, B and C (KA KB KC) and a site in a grid of each (SA SB SC).
const VISIBLE: &[(&str, &[(&str, &str)])] = &[
    (
        "admin",
        &[
            ("units", "D A VA GA GA2 B VB GB GB2 P C GC X"),
            ("pairings", "PA PB PXC"),
            (
                "users",
                "admin leader office officer inspector officer_b partner office_b office_c \
                 inspector_b inspector_c OKA_REPORTER OKB_REPORTER",
            ),
            ("campaigns", "CA CB CC"),
            ("meetings", "MA MB MC"),
            ("directives", "DA DB DC DS"),
            ("tasks", "TA TGA TS TSO TB TBS TC TCS"),
            ("activities", "AA AB AC"),
            ("categories", "KA KB KC"),
            ("sites", "SA SB SC"),
            ("attachments", "XA XB"),
            ("rectifications", "IA ISA ISO IB ISB IC ISC"),
            ("patrols", "PA PB PC"),
            ("checklists", "KLA KLB KLC"),
            ("inspections", "INA INB INC"),
        ],
    ),
    (
        "leader",
        &[
            ("units", "D A VA GA GA2 B VB GB GB2 P C GC X"),
            ("pairings", "PA PB PXC"),
            ("users", "leader"),
            ("campaigns", "CA CB CC"),
            ("meetings", "MA MB MC"),
            ("directives", "DA DB DC DS"),
            ("tasks", "TA TGA TS TSO TB TBS TC TCS"),
            ("activities", "AA AB AC"),
            ("categories", "KA KB KC"),
            ("sites", "SA SB SC"),
            ("attachments", ""),
            ("rectifications", "IA ISA ISO IB ISB IC ISC"),
            ("patrols", "PA PB PC"),
            ("checklists", "KLA KLB KLC"),
            ("inspections", "INA INB INC"),
        ],
    ),
    (
        "office",
        &[
            ("units", "A VA GA GA2"),
            ("pairings", "PA"),
            // An office reads the accounts of its own units (never an admin's).
            ("users", "office officer inspector"),
            ("campaigns", "CA"),
            ("meetings", "MA"),
            ("directives", "DA DS"),
            ("tasks", "TA TGA TS TSO"),
            ("activities", "AA"),
            ("categories", "KA KB KC"),
            ("sites", "SA"),
            ("attachments", ""),
            ("rectifications", "IA ISA ISO"),
            ("patrols", "PA"),
            ("checklists", "KLA KLB KLC"),
            ("inspections", "INA"),
        ],
    ),
    (
        "officer",
        &[
            ("units", "A VA GA GA2"),
            ("pairings", "PA"),
            ("users", "officer"),
            ("campaigns", "CA"),
            ("meetings", "MA"),
            ("directives", "DA DS"),
            ("tasks", "TA TGA TS TSO"),
            ("activities", "AA"),
            ("categories", "KA KB KC"),
            ("sites", "SA"),
            ("attachments", "XA"),
            ("rectifications", "IA ISA ISO"),
            ("patrols", "PA"),
            ("checklists", "KLA KLB KLC"),
            ("inspections", "INA"),
        ],
    ),
    (
        "inspector",
        &[
            // Its grid, and the units above it by name (not their other children).
            ("units", "D A VA GA"),
            ("pairings", ""),
            ("users", "inspector"),
            // What is led from the units above it, and the tasks of its grid.
            ("campaigns", "CA"),
            ("meetings", "MA"),
            ("directives", "DA DS"),
            ("tasks", "TGA"),
            ("activities", ""),
            ("categories", "KA KB KC"),
            ("sites", "SA"),
            ("attachments", ""),
            ("rectifications", "IA ISA ISO"),
            ("patrols", "PA"),
            ("checklists", "KLA KLB KLC"),
            ("inspections", "INA"),
        ],
    ),
    (
        "partner",
        &[
            // Its department, and the towns it is paired with, with all they hold.
            ("units", "P A VA GA GA2 B VB GB GB2"),
            ("pairings", "PA PB"),
            ("users", "partner"),
            ("campaigns", "CA CB"),
            ("meetings", "MA MB"),
            ("directives", "DA DS DB"),
            ("tasks", "TA TGA TS TSO TB TBS"),
            ("activities", "AA AB"),
            ("categories", "KA KB KC"),
            ("sites", "SA SB"),
            ("attachments", ""),
            ("rectifications", "IA ISA ISO IB ISB"),
            ("patrols", "PA PB"),
            ("checklists", "KLA KLB KLC"),
            ("inspections", "INA INB"),
        ],
    ),
    (
        ANON,
        &[
            ("units", ""),
            ("pairings", ""),
            ("users", ""),
            ("campaigns", ""),
            ("meetings", ""),
            ("directives", ""),
            ("tasks", ""),
            ("activities", ""),
            ("categories", ""),
            ("sites", ""),
            ("attachments", ""),
            ("rectifications", ""),
            ("patrols", ""),
            ("checklists", ""),
            ("inspections", ""),
        ],
    ),
];

/// The fixture keys of `collection` that `caller` may see.
fn visible(caller: &str, collection: &str) -> Vec<&'static str> {
    let (_, columns) = VISIBLE
        .iter()
        .find(|(c, _)| *c == caller)
        .expect("caller in VISIBLE");
    let (_, keys) = columns
        .iter()
        .find(|(c, _)| *c == collection)
        .unwrap_or_else(|| panic!("{collection} column in VISIBLE"));
    keys.split_whitespace().collect()
}

/// One caller's expected statuses.
#[derive(Debug, Clone, Copy)]
struct Cases {
    inside: u16,
    outside: u16,
    /// `{id}` paths only: an id that exists nowhere.
    missing: Option<u16>,
    /// Rows that name an owner role only: a target the caller owns in that role.
    owned: Option<u16>,
}

const fn on(inside: u16, outside: u16) -> Cases {
    Cases {
        inside,
        outside,
        missing: None,
        owned: None,
    }
}

impl Cases {
    const fn missing(mut self, status: u16) -> Cases {
        self.missing = Some(status);
        self
    }

    /// A target the caller owns (see [`OWNED`]) gets `status`.
    const fn owned(mut self, status: u16) -> Cases {
        self.owned = Some(status);
        self
    }

    /// The same status for every target.
    const fn all(status: u16) -> Cases {
        Cases {
            inside: status,
            outside: status,
            missing: Some(status),
            owned: None,
        }
    }
}

/// Every caller's expected statuses.
#[derive(Debug, Clone, Copy)]
struct Expect {
    admin: Cases,
    leader: Cases,
    office: Cases,
    officer: Cases,
    inspector: Cases,
    partner: Cases,
    anon: u16,
}

impl Expect {
    /// Only admins may; everyone else is refused with 403 before any lookup.
    const fn admin_only(ok: u16) -> Expect {
        Expect {
            admin: on(ok, ok).missing(404),
            leader: Cases::all(403),
            office: Cases::all(403),
            officer: Cases::all(403),
            inspector: Cases::all(403),
            partner: Cases::all(403),
            anon: 401,
        }
    }

    /// The listed roles get `ok`, inside and outside; every other signed-in caller gets
    /// `refused` (for operations on collections, where the role alone decides).
    fn roles(allowed: &[&str], ok: u16, refused: u16) -> Expect {
        let cases = |role: &str| {
            let status = if allowed.contains(&role) { ok } else { refused };
            on(status, status)
        };
        Expect {
            admin: cases("admin"),
            leader: cases("leader"),
            office: cases("office"),
            officer: cases("officer"),
            inspector: cases("inspector"),
            partner: cases("partner"),
            anon: 401,
        }
    }

    /// Every signed-in caller gets `ok` for anything.
    const fn signed_in(ok: u16) -> Expect {
        Expect {
            admin: on(ok, ok),
            leader: on(ok, ok),
            office: on(ok, ok),
            officer: on(ok, ok),
            inspector: on(ok, ok),
            partner: on(ok, ok),
            anon: 401,
        }
    }

    /// Public: everyone, with a token or without, gets `ok`.
    const fn public(ok: u16) -> Expect {
        Expect {
            anon: ok,
            ..Expect::signed_in(ok)
        }
    }

    fn of(&self, caller: &str) -> Option<Cases> {
        match caller {
            "admin" => Some(self.admin),
            "leader" => Some(self.leader),
            "office" => Some(self.office),
            "officer" => Some(self.officer),
            "inspector" => Some(self.inspector),
            "partner" => Some(self.partner),
            _ => None,
        }
    }
}

/// A write to a patrol: its own inspector gets `ok` on PA; everyone who sees a patrol but
/// is not its inspector, 403; a patrol out of sight, 404.
fn patrol_writes(ok: u16) -> Expect {
    Expect {
        admin: on(403, 403).missing(404),
        leader: on(403, 403).missing(404),
        office: on(403, 404).missing(404),
        officer: on(403, 404).missing(404),
        inspector: on(ok, 404).missing(404),
        partner: on(403, 404).missing(404),
        anon: 401,
    }
}

/// One row per operation of the spec; see the module docs.
fn rows() -> Vec<Row> {
    let read_by_scope = Expect {
        admin: on(200, 200).missing(404),
        leader: on(200, 200).missing(404),
        office: on(200, 404).missing(404),
        officer: on(200, 404).missing(404),
        inspector: on(200, 404).missing(404),
        // What its pairings hold, read-only.
        partner: on(200, 404).missing(404),
        anon: 401,
    };
    // The lead unit's office runs a campaign; leaders read but do not run campaigns.
    let manage_campaigns = Expect {
        admin: on(200, 200).missing(404),
        leader: on(403, 403).missing(404),
        office: on(200, 404).missing(404),
        officer: on(403, 404).missing(404),
        inspector: on(403, 404).missing(404),
        partner: on(403, 404).missing(404),
        anon: 401,
    };
    // Recording a meeting or issuing a directive under the inside campaign (CA) or the
    // outside one (CB, which the A side does not see: a 422 naming campaign_id).
    let issue = Expect {
        office: on(201, 422),
        ..Expect::roles(&["admin", "leader"], 201, 403)
    };
    // The issuing unit's side: its office, leaders, admins.
    let issuer_side = Expect {
        admin: on(200, 200).missing(404),
        leader: on(200, 200).missing(404),
        office: on(200, 404).missing(404),
        officer: on(403, 404).missing(404),
        inspector: on(403, 404).missing(404),
        partner: on(403, 404).missing(404),
        anon: 401,
    };
    // The task's unit works on it (its officers and office; admins anywhere); leaders
    // read it; a pairing partner reads it only.
    let work_on_tasks = Expect {
        admin: on(200, 200).missing(404),
        leader: on(403, 403).missing(404),
        office: on(200, 404).missing(404),
        officer: on(200, 404).missing(404),
        inspector: on(403, 404).missing(404),
        partner: on(403, 404).missing(404),
        anon: 401,
    };
    vec![
        // Public: the process itself.
        row(
            "GET /healthz",
            Kind::None,
            |c| c.plain(),
            Expect::public(200),
        ),
        row(
            "GET /readyz",
            Kind::None,
            |c| c.plain(),
            Expect::public(200),
        ),
        row(
            "GET /metrics",
            Kind::None,
            |c| c.plain(),
            Expect::public(200),
        ),
        // Public: sessions. Outside = another user's name without their password, or
        // another user's refresh token (which is itself the credential).
        row(
            "POST /api/v1/auth/login",
            Kind::None,
            |c| c.plain().json(c.credentials()),
            Expect {
                anon: 200,
                ..Expect::signed_in(200).outside(401)
            },
        ),
        row(
            "POST /api/v1/auth/refresh",
            Kind::None,
            |c| c.plain().json(json!({"refresh_token": c.refresh_token()})),
            Expect::public(200),
        ),
        // Any signed-in user, on their own session and account. Logging out with someone
        // else's refresh token answers 204 but must not end their session.
        row(
            "POST /api/v1/auth/logout",
            Kind::None,
            |c| {
                let body = json!({"refresh_token": c.refresh_token()});
                c.plain().json(body).unchanged_if(c.scope == Scope::Out)
            },
            Expect::signed_in(204),
        ),
        row(
            "GET /api/v1/me",
            Kind::None,
            |c| c.plain(),
            Expect::signed_in(200),
        ),
        row(
            "POST /api/v1/me/password",
            Kind::None,
            |c| {
                let body =
                    json!({"current_password": PASSWORD, "new_password": "matrix-password-2"});
                c.plain().json(body)
            },
            Expect::signed_in(204),
        ),
        // Users: admin only, refused before any lookup.
        // Accounts: admins everywhere; an office reads those of its own units.
        row(
            "GET /api/v1/users",
            Kind::None,
            |c| c.list("unit_id"),
            Expect {
                office: on(200, 200),
                ..Expect::admin_only(200)
            },
        )
        .lists("users"),
        row(
            "POST /api/v1/users",
            Kind::None,
            |c| {
                c.plain().json(json!({
                    "username": format!("matrix{}", c.n),
                    "display_name": "矩阵测试员",
                    "password": "matrix-password-1",
                    "role": "officer",
                    "unit_id": c.town(),
                }))
            },
            Expect::admin_only(201),
        ),
        row(
            "GET /api/v1/users/{id}",
            Kind::User,
            |c| c.at(),
            Expect {
                office: on(200, 404).missing(404),
                ..Expect::admin_only(200)
            },
        ),
        row(
            "PATCH /api/v1/users/{id}",
            Kind::User,
            |c| c.at().json(json!({"display_name": format!("改名{}", c.n)})),
            Expect {
                admin: on(200, 200).missing(404).owned(200),
                ..Expect::admin_only(200)
            },
        ),
        // An admin's own account (owned): deactivating it would lock them out.
        row(
            "POST /api/v1/users/{id}/deactivate",
            Kind::User,
            |c| c.at(),
            Expect {
                admin: on(200, 200).missing(404).owned(422),
                ..Expect::admin_only(200)
            },
        ),
        // No target is locked here: unlocking it changes nothing (tests/api/accounts.rs
        // unlocks a locked one).
        row(
            "POST /api/v1/users/{id}/unlock",
            Kind::User,
            |c| c.at().unchanged_if(true),
            Expect::admin_only(204),
        ),
        // Units: read by scope (outside answers 404), written by admins only.
        row(
            "GET /api/v1/units",
            Kind::None,
            |c| c.list("parent_id"),
            Expect::signed_in(200),
        )
        .lists("units"),
        row(
            "POST /api/v1/units",
            Kind::None,
            |c| {
                c.plain().json(json!({
                    "code": format!("MATRIX-{}", c.n),
                    "name": format!("矩阵村{}", c.n),
                    "kind": "village",
                    "parent_id": c.town(),
                }))
            },
            Expect::admin_only(201),
        ),
        row(
            "GET /api/v1/units/locate",
            Kind::None,
            |c| {
                let (lon, lat) = c.point();
                c.plain().query(&format!("lat={lat}&lon={lon}"))
            },
            Expect {
                office: on(200, 404),
                officer: on(200, 404),
                inspector: on(200, 404),
                partner: on(200, 404),
                ..Expect::signed_in(200)
            },
        ),
        row(
            "GET /api/v1/units/{id}",
            Kind::Unit,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "PATCH /api/v1/units/{id}",
            Kind::Unit,
            |c| c.at().json(json!({"name": format!("改名{}", c.n)})),
            Expect::admin_only(200),
        ),
        row(
            "DELETE /api/v1/units/{id}",
            Kind::LeafUnit,
            |c| c.at(),
            Expect::admin_only(204),
        ),
        row(
            "GET /api/v1/units/{id}/subtree",
            Kind::Unit,
            |c| c.at(),
            read_by_scope,
        ),
        // Pairings: visible when either side is in scope (the inspector's grid is in
        // neither PA nor PB); written by admins only.
        row(
            "GET /api/v1/pairings",
            Kind::None,
            |c| c.list("partner_id"),
            Expect::signed_in(200),
        )
        .lists("pairings"),
        row(
            "POST /api/v1/pairings",
            Kind::None,
            |c| {
                c.plain().json(json!({
                    "department_id": c.w.unit("P"),
                    "partner_id": c.village(),
                    "note": "矩阵包联",
                }))
            },
            Expect::admin_only(201),
        ),
        row(
            "GET /api/v1/pairings/{id}",
            Kind::Pairing,
            |c| c.at(),
            Expect {
                inspector: Cases::all(404),
                ..read_by_scope
            },
        ),
        row(
            "PATCH /api/v1/pairings/{id}",
            Kind::Pairing,
            |c| c.at().json(json!({"note": format!("矩阵包联{}", c.n)})),
            Expect::admin_only(200),
        ),
        row(
            "DELETE /api/v1/pairings/{id}",
            Kind::Pairing,
            |c| c.at(),
            Expect::admin_only(204),
        ),
        // Campaigns: read by scope (led from the caller's units or above, or holding its
        // tasks); created and run by the lead unit's office.
        row(
            "GET /api/v1/campaigns",
            Kind::None,
            |c| c.list("unit_id"),
            Expect::signed_in(200),
        )
        .lists("campaigns"),
        row(
            "POST /api/v1/campaigns",
            Kind::None,
            |c| {
                c.plain().json(json!({
                    "kind": "civilized_city",
                    "name": format!("矩阵创城{}", c.n),
                    "starts_on": "2020-07-24",
                    "ends_on": "2020-10-31",
                    "lead_unit_id": c.town(),
                }))
            },
            Expect {
                // B is not a unit the office sees: a 422 naming lead_unit_id.
                office: on(201, 422),
                ..Expect::roles(&["admin"], 201, 403)
            },
        ),
        row(
            "GET /api/v1/campaigns/{id}",
            Kind::Campaign,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "PATCH /api/v1/campaigns/{id}",
            Kind::Campaign,
            |c| {
                c.at()
                    .json(json!({"description": format!("矩阵修改{}", c.n)}))
            },
            manage_campaigns,
        ),
        row(
            "POST /api/v1/campaigns/{id}/transitions",
            Kind::Campaign,
            |c| c.at().json(json!({"action": "close", "note": "矩阵"})),
            manage_campaigns,
        ),
        row(
            "GET /api/v1/campaigns/{id}/events",
            Kind::Campaign,
            |c| c.at(),
            read_by_scope,
        ),
        // Meetings and directives: recorded and issued by leaders, offices (from their own
        // unit, under a campaign they see) and admins.
        row(
            "GET /api/v1/meetings",
            Kind::None,
            |c| c.list("unit_id"),
            Expect::signed_in(200),
        ),
        row(
            "POST /api/v1/meetings",
            Kind::None,
            |c| {
                c.plain().json(json!({
                    "campaign_id": c.campaign(),
                    "title": format!("矩阵会议{}", c.n),
                    "held_at": "2020-07-24T09:00:00+08:00",
                }))
            },
            issue,
        ),
        row(
            "GET /api/v1/meetings/{id}",
            Kind::Meeting,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "PATCH /api/v1/meetings/{id}",
            Kind::Meeting,
            |c| c.at().json(json!({"summary": format!("矩阵纪要{}", c.n)})),
            issuer_side,
        ),
        row(
            "GET /api/v1/directives",
            Kind::None,
            |c| c.list("campaign_id"),
            Expect::signed_in(200),
        )
        .lists("directives"),
        row(
            "POST /api/v1/directives",
            Kind::None,
            |c| {
                c.plain().json(json!({
                    "campaign_id": c.campaign(),
                    "title": format!("矩阵指示{}", c.n),
                    "priority": "high",
                }))
            },
            issue,
        ),
        row(
            "GET /api/v1/directives/{id}",
            Kind::Directive,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "PATCH /api/v1/directives/{id}",
            Kind::Directive,
            |c| c.at().json(json!({"body": format!("矩阵补充{}", c.n)})),
            issuer_side,
        ),
        // A split of DA to VA (free) inside, of DB (issued from B) to VA outside: a leader
        // or an admin may split any directive to any unit.
        row(
            "POST /api/v1/directives/{id}/tasks",
            Kind::Directive,
            |c| {
                c.at().json(json!({
                    "unit_ids": [c.w.unit("VA")],
                    "due_at": "2099-07-24T18:00:00+08:00",
                }))
            },
            Expect {
                admin: on(201, 201).missing(404),
                leader: on(201, 201).missing(404),
                office: on(201, 404).missing(404),
                ..issuer_side
            },
        ),
        row(
            "GET /api/v1/directives/{id}/events",
            Kind::Directive,
            |c| c.at(),
            read_by_scope,
        ),
        // Tasks: the unit's side works on them; the issuer's side checks them.
        row(
            "GET /api/v1/tasks",
            Kind::None,
            |c| c.list("unit_id"),
            Expect::signed_in(200),
        )
        .lists("tasks"),
        row(
            "GET /api/v1/tasks/{id}",
            Kind::Task,
            |c| c.at(),
            read_by_scope,
        ),
        // Accepting: the issuer's side, never whoever submitted (the office submitted TSO
        // itself). The unit's own transitions are covered by the progress row's rules and
        // by tests/api/tasks.rs.
        row(
            "POST /api/v1/tasks/{id}/transitions",
            Kind::SubmittedTask,
            |c| c.at().json(json!({"action": "accept"})),
            Expect {
                admin: on(200, 200).missing(404),
                leader: on(200, 200).missing(404),
                office: on(200, 404).missing(404).owned(403),
                officer: on(403, 404).missing(404),
                inspector: Cases::all(404),
                partner: on(403, 404).missing(404),
                anon: 401,
            },
        ),
        row(
            "POST /api/v1/tasks/{id}/progress",
            Kind::Task,
            |c| c.at().json(json!({"progress": 60, "note": "矩阵进度"})),
            work_on_tasks,
        ),
        row(
            "GET /api/v1/tasks/{id}/events",
            Kind::Task,
            |c| c.at(),
            read_by_scope,
        ),
        // Activities: recorded by their unit's officers and office.
        row(
            "GET /api/v1/activities",
            Kind::None,
            |c| c.list("unit_id"),
            Expect::signed_in(200),
        )
        .lists("activities"),
        row(
            "POST /api/v1/activities",
            Kind::None,
            |c| {
                let unit = c.town().to_string();
                c.plain().json(json!({
                    "campaign_id": c.campaign(),
                    "unit_id": unit,
                    "title": format!("矩阵活动{}", c.n),
                    "date": "2020-07-20",
                    "participants": 3,
                }))
            },
            Expect {
                // CB is not a campaign the A side sees: a 422 naming campaign_id. The
                // partner may record its department's activities, not A's or B's.
                office: on(201, 422),
                officer: on(201, 422),
                partner: on(422, 422),
                ..Expect::roles(&["admin"], 201, 403)
            },
        ),
        row(
            "GET /api/v1/activities/{id}",
            Kind::Activity,
            |c| c.at(),
            Expect {
                // No activity belongs to the inspector's grid.
                inspector: Cases::all(404),
                ..read_by_scope
            },
        ),
        row(
            "PATCH /api/v1/activities/{id}",
            Kind::Activity,
            |c| c.at().json(json!({"participants": 5 + c.n})),
            Expect {
                admin: on(200, 200).missing(404),
                leader: on(403, 403).missing(404),
                office: on(200, 404).missing(404),
                officer: on(200, 404).missing(404),
                inspector: Cases::all(404),
                partner: on(403, 404).missing(404),
                anon: 401,
            },
        ),
        // Categories: everyone reads them all; admins and offices create them, an office
        // changes those its unit manages.
        row(
            "POST /api/v1/categories",
            Kind::None,
            |c| {
                // Outside, routed to town B by name: not a unit the A side sees.
                let routing = match c.scope {
                    Scope::In => json!({"unit_kind": "town"}),
                    _ => json!({"unit_kind": "town", "unit_id": c.w.unit("B")}),
                };
                c.plain().json(json!({
                    "code": format!("MX-{}", c.n),
                    "name": format!("矩阵类别{}", c.n),
                    "default_severity": "normal",
                    "deadline_hours": 72,
                    "routing": routing,
                }))
            },
            Expect {
                office: on(201, 422),
                ..Expect::roles(&["admin"], 201, 403)
            },
        ),
        row(
            "GET /api/v1/categories",
            Kind::None,
            |c| c.plain(),
            Expect::signed_in(200),
        )
        .lists("categories"),
        row(
            "GET /api/v1/categories/{id}",
            Kind::Category,
            |c| c.at(),
            Expect {
                admin: on(200, 200).missing(404),
                leader: on(200, 200).missing(404),
                office: on(200, 200).missing(404),
                officer: on(200, 200).missing(404),
                inspector: on(200, 200).missing(404),
                partner: on(200, 200).missing(404),
                anon: 401,
            },
        ),
        row(
            "PATCH /api/v1/categories/{id}",
            Kind::Category,
            |c| c.at().json(json!({"deadline_hours": 24 + c.n})),
            Expect {
                // B's category is seen (everyone reads categories) but not A's to change.
                office: on(200, 403).missing(404),
                ..Expect::admin_only(200)
            },
        ),
        // Sites: read through their responsible unit or their grid; their unit's office
        // records and changes them.
        row(
            "POST /api/v1/sites",
            Kind::None,
            |c| {
                let (lon, lat) = c.point();
                let unit = c.town().to_string();
                c.plain().json(json!({
                    "kind": "poster_board",
                    "name": format!("矩阵点位{}", c.n),
                    "lat": lat,
                    "lon": lon,
                    "unit_id": unit,
                }))
            },
            Expect {
                office: on(201, 422),
                ..Expect::roles(&["admin"], 201, 403)
            },
        ),
        row(
            "GET /api/v1/sites",
            Kind::None,
            |c| c.list("unit_id"),
            Expect::signed_in(200),
        )
        .lists("sites"),
        row(
            "GET /api/v1/sites/{id}",
            Kind::Site,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "PATCH /api/v1/sites/{id}",
            Kind::Site,
            |c| c.at().json(json!({"name": format!("矩阵点位改{}", c.n)})),
            Expect {
                office: on(200, 404).missing(404),
                ..Expect::admin_only(200)
            },
        ),
        // Attachments: anyone signed in uploads; a file is its uploader's (and admins').
        row(
            "POST /api/v1/attachments",
            Kind::None,
            |c| c.plain().file(MATRIX_PNG.to_vec()),
            Expect::signed_in(201),
        ),
        row(
            "GET /api/v1/attachments/{id}",
            Kind::Attachment,
            |c| c.at(),
            Expect {
                admin: on(200, 200).missing(404),
                leader: Cases::all(404),
                office: Cases::all(404),
                // XA is the officer's own upload.
                officer: on(200, 404).missing(404),
                inspector: Cases::all(404),
                partner: Cases::all(404),
                anon: 401,
            },
        ),
        // Rectification items: reported in a grid the caller sees; read through their grid
        // and their unit; checked by the reporter, offices over them and leaders, never by
        // whoever submitted the fix.
        row(
            "POST /api/v1/rectifications",
            Kind::None,
            |c| {
                let (lon, lat) = c.point();
                let category = c.w.categories["KA"].clone();
                c.plain().json(json!({
                    "source": "patrol",
                    "category_id": category,
                    "description": format!("矩阵问题{}", c.n),
                    "lat": lat,
                    "lon": lon,
                }))
            },
            Expect {
                admin: on(201, 201),
                leader: on(201, 201),
                office: on(201, 422),
                officer: on(201, 422),
                inspector: on(201, 422),
                partner: on(201, 422),
                anon: 401,
            },
        ),
        row(
            "GET /api/v1/rectifications",
            Kind::None,
            |c| c.list("unit_id"),
            Expect::signed_in(200),
        )
        .lists("rectifications"),
        row(
            "GET /api/v1/rectifications/ledger",
            Kind::None,
            |c| c.list("unit_id"),
            Expect::signed_in(200),
        ),
        row(
            "GET /api/v1/triage",
            Kind::None,
            |c| c.plain(),
            Expect::roles(&["admin", "leader", "office"], 200, 403),
        ),
        row(
            "GET /api/v1/rectifications/{id}",
            Kind::Item,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "GET /api/v1/rectifications/{id}/events",
            Kind::Item,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "POST /api/v1/rectifications/{id}/transitions",
            Kind::SubmittedItem,
            |c| c.at().json(json!({"action": "accept"})),
            Expect {
                admin: on(200, 200).missing(404),
                leader: on(200, 200).missing(404),
                // The office fixed ISO itself: not its to accept.
                office: on(200, 404).missing(404).owned(403),
                officer: on(403, 404).missing(404),
                // The inspector reported ISO, not ISA.
                inspector: on(403, 404).missing(404).owned(200),
                partner: on(403, 404).missing(404),
                anon: 401,
            },
        ),
        // Patrols: only their own inspector writes to them; the grid's chain reads them.
        row(
            "POST /api/v1/patrols",
            Kind::None,
            |c| {
                let grid = c.side("GA", "GB").to_string();
                c.plain().json(json!({"grid_id": grid}))
            },
            Expect {
                // PA is going: one patrol at a time; GB is not the inspector's grid.
                inspector: on(409, 422),
                ..Expect::roles(&[], 201, 403)
            },
        ),
        row(
            "GET /api/v1/patrols",
            Kind::None,
            |c| c.list("grid_id"),
            Expect::signed_in(200),
        )
        .lists("patrols"),
        row(
            "GET /api/v1/patrols/{id}",
            Kind::Patrol,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "GET /api/v1/patrols/{id}/events",
            Kind::Patrol,
            |c| c.at(),
            read_by_scope,
        ),
        row(
            "POST /api/v1/patrols/{id}/track",
            Kind::Patrol,
            |c| {
                let t = (chrono::Utc::now() - chrono::TimeDelta::minutes(5)).to_rfc3339();
                c.at()
                    .json(json!({"points": [{"t": t, "lat": 35.2551, "lon": 115.4855}]}))
            },
            patrol_writes(200),
        ),
        row(
            "POST /api/v1/patrols/{id}/visits",
            Kind::Patrol,
            |c| {
                let site = c.w.sites["SA"].clone();
                c.at().json(json!({"site_id": site, "note": "矩阵巡查"}))
            },
            patrol_writes(200),
        ),
        row(
            "POST /api/v1/patrols/{id}/transitions",
            Kind::Patrol,
            |c| c.at().json(json!({"action": "end"})),
            patrol_writes(200),
        ),
        // Checklists: everyone reads them; the managing unit's office edits them (an edit is
        // a new version). Inspections: of the sites the caller sees, read through the site.
        row(
            "POST /api/v1/checklists",
            Kind::None,
            |c| {
                c.plain().json(
                    json!({"name": format!("矩阵检查表{}", c.n), "kind": "flood_gate",
                    "items": [{"key": "gate", "label": "闸门", "type": "yes_no", "points": 10}]}),
                )
            },
            Expect::roles(&["admin", "office"], 201, 403),
        ),
        row(
            "GET /api/v1/checklists",
            Kind::None,
            |c| c.plain(),
            Expect::signed_in(200),
        )
        .lists("checklists"),
        row(
            "GET /api/v1/checklists/{id}",
            Kind::Checklist,
            |c| c.at(),
            Expect {
                admin: on(200, 200).missing(404),
                leader: on(200, 200).missing(404),
                office: on(200, 200).missing(404),
                officer: on(200, 200).missing(404),
                inspector: on(200, 200).missing(404),
                partner: on(200, 200).missing(404),
                anon: 401,
            },
        ),
        row(
            "PATCH /api/v1/checklists/{id}",
            Kind::Checklist,
            |c| c.at().json(json!({"name": format!("矩阵检查表改{}", c.n)})),
            Expect {
                office: on(200, 403).missing(404),
                ..Expect::admin_only(200)
            },
        ),
        row(
            "POST /api/v1/inspections",
            Kind::None,
            |c| {
                let checklist = c.w.checklists["KLA"].clone();
                let site = match (c.scope, c.caller) {
                    (Scope::In, _) => c.w.sites["SA"].clone(),
                    (_, "partner") => c.w.sites["SC"].clone(),
                    _ => c.w.sites["SB"].clone(),
                };
                c.plain()
                    .json(json!({"checklist_id": checklist, "site_id": site,
                    "kind": "unannounced", "answers": {"clean": "yes"}}))
            },
            Expect {
                admin: on(201, 201),
                leader: on(201, 201),
                office: on(201, 422),
                officer: on(201, 422),
                inspector: on(201, 422),
                partner: on(201, 422),
                anon: 401,
            },
        ),
        row(
            "GET /api/v1/inspections",
            Kind::None,
            |c| c.plain(),
            Expect::signed_in(200),
        )
        .lists("inspections"),
        row(
            "GET /api/v1/inspections/{id}",
            Kind::Inspection,
            |c| c.at(),
            read_by_scope,
        ),
        // The sync feed: everyone signed in reads its own scope's changes (what each role
        // finds in it is checked against VISIBLE by `authz_sync_feed_sweep`).
        row(
            "GET /api/v1/sync",
            Kind::None,
            |c| c.plain(),
            Expect::signed_in(200),
        ),
        // A batch is authorised operation by operation, each as its own call would be
        // (tests/api/sync.rs); the batch itself is open to everyone signed in.
        row(
            "POST /api/v1/sync/batch",
            Kind::None,
            |c| c.plain().json(json!({"operations": []})).unchanged_if(true),
            Expect::signed_in(200),
        ),
        // Notifications: one's own inbox; another user's notification is not found.
        row(
            "GET /api/v1/notifications",
            Kind::None,
            |c| c.plain(),
            Expect::signed_in(200),
        ),
        row(
            "POST /api/v1/notifications/read-all",
            Kind::None,
            |c| c.plain().unchanged_if(true),
            Expect::signed_in(200),
        ),
        row(
            "POST /api/v1/notifications/{id}/read",
            Kind::Notification,
            |c| c.at().unchanged_if(true),
            Expect {
                admin: Cases::all(404),
                leader: Cases::all(404),
                office: on(200, 404).missing(404),
                officer: Cases::all(404),
                inspector: Cases::all(404),
                partner: Cases::all(404),
                anon: 401,
            },
        ),
        // Open311: API keys are admins' alone.
        row(
            "GET /api/v1/open311/keys",
            Kind::None,
            |c| c.plain(),
            Expect::admin_only(200),
        ),
        row(
            "POST /api/v1/open311/keys",
            Kind::None,
            |c| c.plain().json(json!({"name": format!("矩阵应用{}", c.n)})),
            Expect::admin_only(201),
        ),
        row(
            "GET /api/v1/open311/keys/{id}",
            Kind::Open311Key,
            |c| c.at(),
            Expect::admin_only(200),
        ),
        row(
            "DELETE /api/v1/open311/keys/{id}",
            Kind::Open311Key,
            |c| c.at(),
            Expect::admin_only(204),
        ),
        // Open311 GeoReport v2: public, a token or none; a report needs only its api_key.
        row(
            "GET /open311/discovery.{format}",
            Kind::None,
            |c| c.plain().path("/open311/discovery.json".into()),
            Expect::public(200),
        ),
        row(
            "GET /open311/v2/discovery.{format}",
            Kind::None,
            |c| c.plain().path("/open311/v2/discovery.xml".into()),
            Expect::public(200),
        ),
        row(
            "GET /open311/v2/services.{format}",
            Kind::None,
            |c| c.plain().path("/open311/v2/services.xml".into()),
            Expect::public(200),
        ),
        row(
            "GET /open311/v2/services/{service_code}.{format}",
            Kind::None,
            |c| c.plain().path("/open311/v2/services/LL-GGP.json".into()),
            Expect::public(200),
        ),
        row(
            "GET /open311/v2/requests.{format}",
            Kind::None,
            |c| {
                c.plain()
                    .path("/open311/v2/requests.json?status=open".into())
            },
            Expect::public(200),
        ),
        row(
            "GET /open311/v2/requests/{service_request_id}.{format}",
            Kind::None,
            |c| {
                let number = &c.w.open311["IA_NUMBER"];
                c.plain()
                    .path(format!("/open311/v2/requests/{number}.json"))
            },
            Expect::public(200),
        ),
        // Tokens belong to reports posted through Open311, which the fixture has none of
        // (tests/api/open311.rs reads one).
        row(
            "GET /open311/v2/tokens/{token}.{format}",
            Kind::None,
            |c| {
                let token = uuid::Uuid::now_v7();
                c.plain().path(format!("/open311/v2/tokens/{token}.json"))
            },
            Expect::public(404),
        ),
        row(
            "POST /open311/v2/requests.{format}",
            Kind::None,
            |c| {
                c.plain().path("/open311/v2/requests.json".into()).form(&[
                    ("api_key", &c.w.open311["OKA_SECRET"]),
                    ("service_code", "MLG-ZDJY"),
                    ("lat", "35.215"),
                    ("long", "115.505"),
                    ("description", "程楼沿街商铺占道经营"),
                ])
            },
            Expect::public(200),
        ),
    ]
}

impl Expect {
    /// The same, with every signed-in caller's outside status replaced.
    const fn outside(mut self, status: u16) -> Expect {
        self.admin.outside = status;
        self.leader.outside = status;
        self.office.outside = status;
        self.officer.outside = status;
        self.inspector.outside = status;
        self.partner.outside = status;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// A target in the caller's scope.
    In,
    /// A target outside it (the B side of the fixture).
    Out,
    /// An id that exists nowhere (`{id}` paths only).
    Missing,
    /// A target the caller owns in the role that matters to the row ([`OWNED`]).
    Owned,
}

struct Row {
    method: Method,
    /// The path template, exactly as in the spec.
    path: &'static str,
    kind: Kind,
    build: fn(&Ctx<'_>) -> Req,
    expect: Expect,
    /// For list operations: the collection an unfiltered list must return exactly the
    /// visible part of.
    lists: Option<&'static str>,
}

fn row(op: &'static str, kind: Kind, build: fn(&Ctx<'_>) -> Req, expect: Expect) -> Row {
    let (method, path) = op.split_once(' ').expect("an operation is `METHOD /path`");
    let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    Row {
        method,
        path,
        kind,
        build,
        expect,
        lists: None,
    }
}

impl Row {
    fn lists(mut self, collection: &'static str) -> Row {
        self.lists = Some(collection);
        self
    }

    fn op(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn has_id(&self) -> bool {
        self.path.contains("{id}")
    }

    fn is_write(&self) -> bool {
        self.method != Method::GET
    }

    /// Every case of the row: caller, target, expected status.
    fn cases(&self) -> Result<Vec<(&'static str, Scope, u16)>, String> {
        if self.has_id() != (self.kind != Kind::None) {
            return Err("a row targets a record exactly when its path has `{id}`".into());
        }
        let mut cases = Vec::new();
        for caller in CALLERS {
            let Some(expected) = self.expect.of(caller) else {
                cases.push((caller, Scope::In, self.expect.anon));
                continue;
            };
            cases.push((caller, Scope::In, expected.inside));
            cases.push((caller, Scope::Out, expected.outside));
            match (self.has_id(), expected.missing) {
                (true, Some(status)) => cases.push((caller, Scope::Missing, status)),
                (true, None) => return Err(format!("{caller}: an `{{id}}` path needs `missing`")),
                _ => {}
            }
            if let Some(status) = expected.owned {
                if owned_key(self.kind, caller).is_none() {
                    return Err(format!("{caller}: `owned` needs a line in OWNED"));
                }
                cases.push((caller, Scope::Owned, status));
            }
        }
        Ok(cases)
    }
}

/// A request to send: the concrete path, an optional JSON body, and whether a 2xx answer
/// must change the database (writes only).
struct Req {
    path: String,
    body: Option<Value>,
    /// A form sent as `application/x-www-form-urlencoded` (Open311's reports).
    form: Option<String>,
    /// A file sent as the multipart field `file` (instead of a JSON body).
    file: Option<Vec<u8>>,
    changes: bool,
}

impl Req {
    fn file(mut self, content: Vec<u8>) -> Req {
        self.file = Some(content);
        self
    }

    fn form(mut self, pairs: &[(&str, &str)]) -> Req {
        self.form = Some(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish(),
        );
        self
    }

    /// Another path than the template (Open311's, whose parameters are not `{id}`).
    fn path(mut self, path: String) -> Req {
        self.path = path;
        self
    }

    fn json(mut self, body: Value) -> Req {
        self.body = Some(body);
        self
    }

    fn query(mut self, query: &str) -> Req {
        self.path = format!("{}?{query}", self.path);
        self
    }

    /// A 2xx answer must leave the database as it was.
    fn unchanged_if(mut self, unchanged: bool) -> Req {
        self.changes &= !unchanged;
        self
    }
}

/// What a row's request builder knows: the world, who calls, which side it targets.
struct Ctx<'a> {
    w: &'a World,
    /// A refresh token of every fixture user, issued by [`fixture`].
    refresh: &'a HashMap<String, String>,
    caller: &'static str,
    scope: Scope,
    template: &'static str,
    kind: Kind,
    /// Unique per case, for codes and usernames.
    n: usize,
}

impl Ctx<'_> {
    fn plain(&self) -> Req {
        Req {
            path: self.template.to_string(),
            body: None,
            form: None,
            file: None,
            changes: true,
        }
    }

    /// The template with `{id}` filled in with the row's target.
    fn at(&self) -> Req {
        Req {
            path: self.template.replace("{id}", &self.target()),
            ..self.plain()
        }
    }

    /// The id of the row's target for this case (a fresh one for a missing target).
    fn target(&self) -> String {
        let target = TARGETS
            .iter()
            .find(|t| t.kind == self.kind)
            .unwrap_or_else(|| panic!("{:?} has no line in TARGETS", self.kind));
        let key = match (self.scope, self.caller) {
            (Scope::In, "inspector") => target.inspector,
            (Scope::In, "partner") => target.partner,
            (Scope::In, _) => target.inside,
            (Scope::Out, "partner") => target.partner_outside,
            (Scope::Out, _) => target.outside,
            (Scope::Owned, _) => owned_key(self.kind, self.caller).expect("a line in OWNED"),
            (Scope::Missing, _) => return uuid::Uuid::now_v7().to_string(),
        };
        self.w.collection(target.collection)[key].clone()
    }

    /// A list: unfiltered inside, filtered to the B side outside.
    fn list(&self, filter: &str) -> Req {
        match self.scope {
            Scope::In => self.plain(),
            _ => self
                .plain()
                .query(&format!("{filter}={}", self.w.unit("B"))),
        }
    }

    /// The fixture user the caller is (the admin for `anon`).
    fn me(&self) -> &'static str {
        if self.caller == ANON {
            "admin"
        } else {
            self.caller
        }
    }

    fn side(&self, inside: &'static str, outside: &'static str) -> &str {
        let key = if self.scope == Scope::Out {
            outside
        } else {
            inside
        };
        self.w.unit(key)
    }

    /// The parent of a new unit or the unit of a new user.
    fn town(&self) -> &str {
        self.side("A", "B")
    }

    /// The campaign work is recorded under: CA inside, CB outside.
    fn campaign(&self) -> &str {
        let key = if self.scope == Scope::Out { "CB" } else { "CA" };
        &self.w.campaigns[key]
    }

    /// A pairing partner not yet paired.
    fn village(&self) -> &str {
        self.side("VA", "VB")
    }

    fn point(&self) -> (f64, f64) {
        match (self.scope, self.caller) {
            (Scope::In, _) => GA_POINT,
            // GB is among what the partner reads; grid GC of town C is not.
            (_, "partner") => GC_POINT,
            _ => GB_POINT,
        }
    }

    fn credentials(&self) -> Value {
        let username = match self.me() {
            "office" => "office_a",
            "officer" => "officer_a",
            "inspector" => "inspector_a",
            "partner" => "dqgzb_officer",
            other => other,
        };
        match self.scope {
            Scope::In => json!({"username": username, "password": PASSWORD}),
            _ => json!({"username": "officer_b", "password": "not-the-password"}),
        }
    }

    /// The caller's own refresh token inside, officer_b's outside.
    fn refresh_token(&self) -> &str {
        let owner = if self.scope == Scope::In {
            self.me()
        } else {
            "officer_b"
        };
        &self.refresh[owner]
    }
}

trait Collections {
    fn collection(&self, name: &str) -> &HashMap<String, String>;
}

impl Collections for World {
    fn collection(&self, name: &str) -> &HashMap<String, String> {
        match name {
            "units" => &self.units,
            "users" => &self.users,
            "pairings" => &self.pairings,
            "campaigns" => &self.campaigns,
            "meetings" => &self.meetings,
            "directives" => &self.directives,
            "tasks" => &self.tasks,
            "activities" => &self.activities,
            "notifications" => &self.notifications,
            "categories" => &self.categories,
            "sites" => &self.sites,
            "attachments" => &self.attachments,
            "rectifications" => &self.rectifications,
            "patrols" => &self.patrols,
            "checklists" => &self.checklists,
            "inspections" => &self.inspections,
            "open311" => &self.open311,
            other => panic!("no collection {other} in the fixture world"),
        }
    }
}

/// The fixture world, a spare leaf grid GA2 under VA, and a live refresh token per user.
struct Fixture {
    app: TestApp,
    w: World,
    refresh: HashMap<String, String>,
}

/// The file the matrix uploads: a 1×1 PNG.
const MATRIX_PNG: &[u8] = include_bytes!("../fixtures/after-fix.png");

/// A point of grid GC (town C).
const GC_POINT: (f64, f64) = (115.525, 35.235);

/// What the matrix adds to the fixture world.
const MATRIX_WORLD: &str = r#"{
    "name": "the matrix's additions",
    "units": [
        {"key": "GA2", "code": "HZGX-LLZ-ZZ-G02", "name": "寨庄第二网格", "kind": "grid", "parent": "VA"},
        {"key": "GB2", "code": "HZGX-MLGZ-CL-G02", "name": "程楼第二网格", "kind": "grid", "parent": "VB"},
        {"key": "C", "code": "HZGX-DSZ", "name": "都司镇", "kind": "town", "parent": "D"},
        {"key": "GC", "code": "HZGX-DSZ-G01", "name": "都司镇第一网格", "kind": "grid", "parent": "C",
         "boundary": {"type": "Polygon", "coordinates": [[[115.52, 35.23], [115.53, 35.23], [115.53, 35.24], [115.52, 35.24], [115.52, 35.23]]]}},
        {"key": "X", "code": "HZGX-ZGH", "name": "区总工会", "kind": "department", "parent": "D"}
    ],
    "users": [
        {"key": "partner", "username": "dqgzb_officer", "display_name": "党群工作部干事", "role": "officer", "unit": "P", "password": "fixture-password-1"},
        {"key": "office_b", "username": "office_b", "display_name": "马岭岗镇党政办", "role": "office", "unit": "B", "password": "fixture-password-1"},
        {"key": "office_c", "username": "office_c", "display_name": "都司镇党政办", "role": "office", "unit": "C", "password": "fixture-password-1"},
        {"key": "inspector_b", "username": "inspector_b", "display_name": "程楼网格员", "role": "inspector", "unit": "GB", "password": "fixture-password-1"},
        {"key": "inspector_c", "username": "inspector_c", "display_name": "都司镇网格员", "role": "inspector", "unit": "GC", "password": "fixture-password-1"}
    ],
    "pairings": [
        {"key": "PXC", "department": "X", "partner": "C", "note": "志愿服务"}
    ],
    "campaigns": [
        {"key": "CA", "kind": "civilized_city", "name": "吕陵镇创城攻坚", "starts_on": {"days": -30}, "ends_on": {"days": 60}, "lead": "A", "by": "office", "status": "active"},
        {"key": "CB", "kind": "flood_prep", "name": "马岭岗镇防汛备汛", "starts_on": {"days": -30}, "ends_on": {"days": 60}, "lead": "B", "by": "office_b", "status": "active"},
        {"key": "CC", "kind": "volunteer", "name": "都司镇志愿服务", "starts_on": {"days": -30}, "ends_on": {"days": 60}, "lead": "C", "by": "office_c", "status": "active"}
    ],
    "meetings": [
        {"key": "MA", "campaign": "CA", "title": "吕陵镇创城推进会", "held_at": {"days": -20}, "by": "office"},
        {"key": "MB", "campaign": "CB", "title": "马岭岗镇防汛部署会", "held_at": {"days": -20}, "by": "office_b"},
        {"key": "MC", "campaign": "CC", "title": "都司镇志愿服务推进会", "held_at": {"days": -20}, "by": "office_c"}
    ],
    "directives": [
        {"key": "DA", "campaign": "CA", "meeting": "MA", "title": "背街小巷环境整治", "by": "office", "at": {"days": -20},
         "tasks": [
            {"key": "TA", "unit": "A", "due": {"days": 30}, "steps": [{"action": "start", "by": "officer", "at": {"days": -19}}]},
            {"key": "TGA", "unit": "GA", "due": {"days": 30}, "steps": [{"action": "start", "by": "office", "at": {"days": -19}}]}
         ]},
        {"key": "DS", "campaign": "CA", "title": "公益广告牌更新", "by": "office", "at": {"days": -20},
         "tasks": [
            {"key": "TS", "unit": "A", "due": {"days": 30}, "steps": [
                {"action": "start", "by": "officer", "at": {"days": -19}},
                {"action": "submit", "by": "officer", "at": {"days": -2}}]},
            {"key": "TSO", "unit": "VA", "due": {"days": 30}, "steps": [
                {"action": "start", "by": "office", "at": {"days": -19}},
                {"action": "submit", "by": "office", "at": {"days": -2}}]}
         ]},
        {"key": "DB", "campaign": "CB", "meeting": "MB", "title": "修订防汛应急预案", "by": "office_b", "at": {"days": -20},
         "tasks": [
            {"key": "TB", "unit": "B", "due": {"days": 30}, "steps": [{"action": "start", "by": "officer_b", "at": {"days": -19}}]},
            {"key": "TBS", "unit": "VB", "due": {"days": 30}, "steps": [
                {"action": "start", "by": "officer_b", "at": {"days": -19}},
                {"action": "submit", "by": "officer_b", "at": {"days": -2}}]}
         ]},
        {"key": "DC", "campaign": "CC", "meeting": "MC", "title": "小荷学堂暑期课堂", "by": "office_c", "at": {"days": -20},
         "tasks": [
            {"key": "TC", "unit": "C", "due": {"days": 30}, "steps": [{"action": "start", "by": "office_c", "at": {"days": -19}}]},
            {"key": "TCS", "unit": "GC", "due": {"days": 30}, "steps": [
                {"action": "start", "by": "office_c", "at": {"days": -19}},
                {"action": "submit", "by": "office_c", "at": {"days": -2}}]}
         ]}
    ],
    "activities": [
        {"key": "AA", "campaign": "CA", "unit": "A", "title": "吕陵镇文明交通劝导", "date": {"days": -10}, "participants": 20, "volunteer_hours": 40.0, "by": "officer"},
        {"key": "AB", "campaign": "CB", "unit": "B", "title": "马岭岗镇河道清理", "date": {"days": -10}, "participants": 30, "volunteer_hours": 90.0, "by": "officer_b"},
        {"key": "AC", "campaign": "CC", "unit": "C", "title": "小荷学堂公益课", "date": {"days": -10}, "participants": 12, "volunteer_hours": 36.0, "beneficiaries": 45, "by": "office_c"}
    ],
    "categories": [
        {"key": "KA", "code": "LL-GGP", "name": "吕陵镇公益广告牌破损", "severity": "normal", "deadline_hours": 72, "route_kind": "town", "by": "office"},
        {"key": "KB", "code": "MLG-ZDJY", "name": "马岭岗镇占道经营", "severity": "normal", "deadline_hours": 48, "route_kind": "town", "by": "office_b"},
        {"key": "KC", "code": "DS-LJ", "name": "都司镇垃圾乱堆", "severity": "low", "deadline_hours": 24, "route_kind": "town", "by": "office_c"}
    ],
    "sites": [
        {"key": "SA", "kind": "poster_board", "name": "寨庄村口公益广告牌", "lat": 35.255, "lon": 115.485, "unit": "A", "by": "office"},
        {"key": "SB", "kind": "shop_street", "name": "程楼沿街商铺", "lat": 35.215, "lon": 115.505, "unit": "B", "by": "office_b"},
        {"key": "SC", "kind": "market", "name": "都司集贸市场", "lat": 35.235, "lon": 115.525, "unit": "C", "by": "office_c"}
    ],
    "items": [
        {"key": "IA", "category": "KA", "source": "patrol", "description": "寨庄广告牌破损", "lat": 35.255, "lon": 115.485, "by": "inspector", "at": {"days": -1},
         "steps": [{"action": "start", "by": "officer", "at": {"days": -1, "hours": 1}}]},
        {"key": "ISA", "category": "KA", "source": "unannounced", "description": "寨庄广告牌褪色", "lat": 35.2551, "lon": 115.4851, "by": "office", "at": {"days": -1},
         "steps": [{"action": "start", "by": "officer", "at": {"days": -1, "hours": 1}},
                   {"action": "submit", "by": "officer", "at": {"days": -1, "hours": 2}}]},
        {"key": "ISO", "category": "KA", "source": "patrol", "description": "寨庄广告牌缺失", "lat": 35.2552, "lon": 115.4852, "by": "inspector", "at": {"days": -1},
         "steps": [{"action": "start", "by": "office", "at": {"days": -1, "hours": 1}},
                   {"action": "submit", "by": "office", "at": {"days": -1, "hours": 2}}]},
        {"key": "IB", "category": "KB", "source": "patrol", "description": "程楼沿街占道经营", "lat": 35.215, "lon": 115.505, "by": "office_b", "at": {"days": -1},
         "steps": [{"action": "start", "by": "officer_b", "at": {"days": -1, "hours": 1}}]},
        {"key": "ISB", "category": "KB", "source": "patrol", "description": "程楼沿街出店经营", "lat": 35.2151, "lon": 115.5051, "by": "office_b", "at": {"days": -1},
         "steps": [{"action": "start", "by": "officer_b", "at": {"days": -1, "hours": 1}},
                   {"action": "submit", "by": "officer_b", "at": {"days": -1, "hours": 2}}]},
        {"key": "IC", "category": "KC", "source": "patrol", "description": "都司集市垃圾", "lat": 35.235, "lon": 115.525, "by": "office_c", "at": {"days": -1},
         "steps": [{"action": "start", "by": "office_c", "at": {"days": -1, "hours": 1}}]},
        {"key": "ISC", "category": "KC", "source": "patrol", "description": "都司集市垃圾未清", "lat": 35.2351, "lon": 115.5251, "by": "office_c", "at": {"days": -1},
         "steps": [{"action": "start", "by": "office_c", "at": {"days": -1, "hours": 1}},
                   {"action": "submit", "by": "office_c", "at": {"days": -1, "hours": 2}}]}
    ],
    "patrols": [
        {"key": "PA", "grid": "GA", "by": "inspector", "at": {"days": 0, "hours": -1},
         "track": [[115.485, 35.255, 1], [115.486, 35.255, 2]]},
        {"key": "PB", "grid": "GB", "by": "inspector_b", "at": {"days": 0, "hours": -1},
         "track": [[115.505, 35.215, 1]]},
        {"key": "PC", "grid": "GC", "by": "inspector_c", "at": {"days": 0, "hours": -1},
         "track": [[115.525, 35.235, 1]]}
    ]
}"#;

async fn fixture() -> Fixture {
    let (app, w) = TestApp::with_world().await;
    let mut w = app.load_more(w, MATRIX_WORLD);
    // A notification of the office's and one of the B office's ("a task for your unit").
    for (key, user) in [("NOFFICE", "office"), ("NOFFICE_B", "office_b")] {
        let user = UserId::parse(w.user(user)).expect("user id");
        let id: String = app.db(|conn| {
            notifications::table
                .filter(notifications::user_id.eq(user))
                .select(notifications::id)
                .order(notifications::id)
                .limit(1)
                .get_result(conn)
                .expect("a fixture notification")
        });
        w.notifications.insert(key.to_string(), id);
    }
    for (key, user) in [("XA", "officer"), ("XB", "officer_b")] {
        let sent = app.upload(w.token(user), "fixture.png", MATRIX_PNG).await;
        let id = sent.json()["id"]
            .as_str()
            .expect("an attachment")
            .to_string();
        w.attachments.insert(key.to_string(), id);
    }
    // A checklist of each town's office, and an inspection of each town's site with it.
    for (town, office, site) in [
        ("A", "office", "SA"),
        ("B", "office_b", "SB"),
        ("C", "office_c", "SC"),
    ] {
        let checklist = app
            .post(
                "/api/v1/checklists",
                w.token(office),
                &json!({"name": format!("{town}镇创城检查表"), "kind": "civilized_city_street",
                        "items": [{"key": "clean", "label": "路面整洁", "type": "yes_no", "points": 10,
                                   "required": true, "pass": {"equals": "yes"}}]}),
            )
            .await
            .json()["id"]
            .as_str()
            .expect("a checklist")
            .to_string();
        let inspection = app
            .post(
                "/api/v1/inspections",
                w.token(office),
                &json!({"checklist_id": checklist, "site_id": w.sites[site], "kind": "routine",
                        "answers": {"clean": "yes"}}),
            )
            .await
            .json()["id"]
            .as_str()
            .expect("an inspection")
            .to_string();
        w.checklists.insert(format!("KL{town}"), checklist);
        w.inspections.insert(format!("IN{town}"), inspection);
    }
    // Open311: two keys to read and revoke, the first one's key itself to report with,
    // and the number of item IA to read as a request.
    let mut reporters = Vec::new();
    for key in ["OKA", "OKB"] {
        let issued = app
            .post(
                "/api/v1/open311/keys",
                w.token("admin"),
                &json!({"name": format!("矩阵 {key}")}),
            )
            .await
            .json();
        let id = issued["id"].as_str().expect("a key").to_string();
        let secret = issued["api_key"].as_str().expect("the key").to_string();
        w.open311.insert(key.to_string(), id);
        w.open311.insert(format!("{key}_SECRET"), secret);
        // The account its reports are filed as: a user of D that cannot log in.
        let reporter = issued["reporter_id"].as_str().expect("its account");
        reporters.push((format!("{key}_REPORTER"), reporter.to_string()));
    }
    let ia = w.rectifications["IA"].clone();
    let number: String = app.db(|conn| {
        rectifications::table
            .filter(rectifications::id.eq(&ia))
            .select(rectifications::number)
            .get_result(conn)
            .expect("IA's number")
    });
    w.open311.insert("IA_NUMBER".to_string(), number);
    let refresh = app.db(|conn| {
        w.users
            .iter()
            .map(|(key, id)| {
                let id = UserId::parse(id).expect("user id");
                let token = sessions::issue(conn, id, SessionId::new(), Duration::from_secs(3600));
                (key.clone(), token.expect("refresh token"))
            })
            .collect()
    });
    // After the sessions: the keys' accounts cannot log in.
    w.users.extend(reporters);
    Fixture { app, w, refresh }
}

/// Everything a write could change, as text: the rows of units, users (hashes included),
/// pairings, refresh tokens and campaign work with its events. (Notifications are left
/// out: marking them read is a write that may find nothing unread.)
fn snapshot(app: &TestApp) -> String {
    app.db(|conn| {
        let units: Vec<UnitRow> = units::table
            .order(units::id)
            .select(UnitRow::as_select())
            .load(conn)
            .expect("units");
        let users: Vec<UserRow> = users::table
            .order(users::id)
            .select(UserRow::as_select())
            .load(conn)
            .expect("users");
        let pairings: Vec<PairingRow> = pairings::table
            .order(pairings::id)
            .select(PairingRow::as_select())
            .load(conn)
            .expect("pairings");
        let tokens: Vec<RefreshTokenRow> = refresh_tokens::table
            .order(refresh_tokens::id)
            .select(RefreshTokenRow::as_select())
            .load(conn)
            .expect("refresh tokens");
        let campaigns: Vec<CampaignRow> = campaigns::table
            .order(campaigns::id)
            .select(CampaignRow::as_select())
            .load(conn)
            .expect("campaigns");
        let meetings: Vec<MeetingRow> = meetings::table
            .order(meetings::id)
            .select(MeetingRow::as_select())
            .load(conn)
            .expect("meetings");
        let attending: Vec<(String, String)> = meeting_units::table
            .order((meeting_units::meeting_id, meeting_units::unit_id))
            .load(conn)
            .expect("meeting units");
        let directives: Vec<DirectiveRow> = directives::table
            .order(directives::id)
            .select(DirectiveRow::as_select())
            .load(conn)
            .expect("directives");
        let tasks: Vec<TaskRow> = tasks::table
            .order(tasks::id)
            .select(TaskRow::as_select())
            .load(conn)
            .expect("tasks");
        let activities: Vec<ActivityRow> = activities::table
            .order(activities::id)
            .select(ActivityRow::as_select())
            .load(conn)
            .expect("activities");
        let categories: Vec<CategoryRow> = categories::table
            .order(categories::id)
            .select(CategoryRow::as_select())
            .load(conn)
            .expect("categories");
        let sites: Vec<SiteRow> = sites::table
            .order(sites::id)
            .select(SiteRow::as_select())
            .load(conn)
            .expect("sites");
        let attachments: Vec<AttachmentRow> = attachments::table
            .order(attachments::id)
            .select(AttachmentRow::as_select())
            .load(conn)
            .expect("attachments");
        let items: Vec<ItemRow> = rectifications::table
            .order(rectifications::id)
            .select(ItemRow::as_select())
            .load(conn)
            .expect("rectification items");
        let photos: Vec<(String, String, String)> = rectification_attachments::table
            .order((
                rectification_attachments::rectification_id,
                rectification_attachments::attachment_id,
            ))
            .select((
                rectification_attachments::rectification_id,
                rectification_attachments::attachment_id,
                rectification_attachments::stage,
            ))
            .load(conn)
            .expect("rectification attachments");
        let events: Vec<EventRow> = events::table
            .order(events::id)
            .select(EventRow::as_select())
            .load(conn)
            .expect("events");
        let patrols: Vec<PatrolRow> = patrols::table
            .order(patrols::id)
            .select(PatrolRow::as_select())
            .load(conn)
            .expect("patrols");
        let checklists: Vec<(String, i32, i32)> = checklists::table
            .order(checklists::id)
            .select((checklists::id, checklists::latest_version, checklists::version))
            .load(conn)
            .expect("checklists");
        let keys: Vec<(String, Option<chrono::NaiveDateTime>)> = open311_keys::table
            .order(open311_keys::id)
            .select((open311_keys::id, open311_keys::revoked_at))
            .load(conn)
            .expect("open311 keys");
        let reports: i64 = open311_reports::table
            .count()
            .get_result(conn)
            .expect("open311 reports");
        let inspected: i64 = inspections::table
            .count()
            .get_result(conn)
            .expect("inspections");
        let fixes: i64 = patrol_points::table
            .count()
            .get_result(conn)
            .expect("patrol points");
        let visits: i64 = patrol_visits::table
            .count()
            .get_result(conn)
            .expect("patrol visits");
        format!(
            "{keys:?} {reports}\n{patrols:?}\n{fixes} {visits}\n{checklists:?} {inspected}\n{units:?}\n{users:?}\n{pairings:?}\n{tokens:?}\n{campaigns:?}\n{meetings:?}\n\
             {attending:?}\n{directives:?}\n{tasks:?}\n{activities:?}\n{categories:?}\n\
             {sites:?}\n{attachments:?}\n{items:?}\n{photos:?}\n{events:?}"
        )
    })
}

/// Records whose version is not their number of events: every change appends exactly one
/// event (its create is version 1), so a write that changed a record without its event, or
/// an event without its change, shows here.
fn versions_without_events(app: &TestApp) -> Vec<String> {
    app.db(|conn| {
        let counts: HashMap<String, i64> = events::table
            .group_by(events::entity_id)
            .select((events::entity_id, diesel::dsl::count_star()))
            .load::<(String, i64)>(conn)
            .expect("event counts")
            .into_iter()
            .collect();
        let mut versions: Vec<(String, String, i32)> = Vec::new();
        let mut add = |kind: &str, rows: Vec<(String, i32)>| {
            versions.extend(rows.into_iter().map(|(id, v)| (kind.to_string(), id, v)));
        };
        add(
            "campaign",
            campaigns::table
                .select((campaigns::id, campaigns::version))
                .load(conn)
                .expect("campaigns"),
        );
        add(
            "meeting",
            meetings::table
                .select((meetings::id, meetings::version))
                .load(conn)
                .expect("meetings"),
        );
        add(
            "directive",
            directives::table
                .select((directives::id, directives::version))
                .load(conn)
                .expect("directives"),
        );
        add(
            "category",
            categories::table
                .select((categories::id, categories::version))
                .load(conn)
                .expect("categories"),
        );
        add(
            "checklist",
            checklists::table
                .select((checklists::id, checklists::version))
                .load(conn)
                .expect("checklists"),
        );
        add(
            "inspection",
            inspections::table
                .select((inspections::id, inspections::version))
                .load(conn)
                .expect("inspections"),
        );
        add(
            "patrol",
            patrols::table
                .select((patrols::id, patrols::version))
                .load(conn)
                .expect("patrols"),
        );
        add(
            "rectification",
            rectifications::table
                .select((rectifications::id, rectifications::version))
                .load(conn)
                .expect("rectification items"),
        );
        add(
            "site",
            sites::table
                .select((sites::id, sites::version))
                .load(conn)
                .expect("sites"),
        );
        add(
            "task",
            tasks::table
                .select((tasks::id, tasks::version))
                .load(conn)
                .expect("tasks"),
        );
        add(
            "activity",
            activities::table
                .select((activities::id, activities::version))
                .load(conn)
                .expect("activities"),
        );
        versions
            .into_iter()
            .filter(|(_, id, version)| counts.get(id).copied().unwrap_or(0) != i64::from(*version))
            .map(|(kind, id, version)| {
                let events = counts.get(&id).copied().unwrap_or(0);
                format!("{kind} {id} is at version {version} with {events} events")
            })
            .collect()
    })
}

fn short(text: &str) -> String {
    text.chars().take(300).collect()
}

/// Fixture ids the caller must never get back as an object, with their keys.
fn hidden_ids(w: &World, caller: &str) -> HashMap<String, String> {
    let mut hidden = HashMap::new();
    for collection in COLLECTIONS {
        let seen = visible(caller, collection);
        for (key, id) in w.collection(collection) {
            if !seen.contains(&key.as_str()) {
                hidden.insert(id.clone(), key.clone());
            }
        }
    }
    hidden
}

/// The fixture key of an id (the id itself when it is not a fixture object).
fn key_of(w: &World, id: &str) -> String {
    COLLECTIONS
        .iter()
        .flat_map(|c| w.collection(c))
        .find(|(_, v)| *v == id)
        .map_or_else(|| id.to_string(), |(k, _)| k.clone())
}

fn returned_ids(body: &Value) -> Vec<String> {
    let top = body.get("id").into_iter();
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("id"));
    top.chain(items)
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Runs one case; returns what went wrong, if anything.
async fn run_case(
    fx: &Fixture,
    row: &Row,
    caller: &'static str,
    scope: Scope,
    expected: u16,
    n: usize,
) -> Vec<String> {
    let ctx = Ctx {
        w: &fx.w,
        refresh: &fx.refresh,
        caller,
        scope,
        template: row.path,
        kind: row.kind,
        n,
    };
    let req = (row.build)(&ctx);
    let label = format!(
        "{} {} as {caller}, {scope:?} ({} {})",
        row.method, row.path, row.method, req.path
    );
    let token = (caller != ANON).then(|| fx.w.token(caller));
    let before = row.is_write().then(|| snapshot(&fx.app));
    let resp = match (&req.file, &req.form) {
        (Some(content), _) => fx.app.upload_as(token, "matrix.png", content).await,
        (None, Some(form)) => {
            let bearer = token.map(|t| format!("Bearer {t}"));
            let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
            if let Some(bearer) = &bearer {
                headers.push(("authorization", bearer.as_str()));
            }
            fx.app
                .send_raw(row.method.as_str(), &req.path, &headers, form)
                .await
        }
        (None, None) => {
            fx.app
                .send(row.method.clone(), &req.path, token, req.body.as_ref())
                .await
        }
    };
    let status = resp.status.as_u16();
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(format!("{label}: {what}"));

    if status != expected {
        fail(format!(
            "expected {expected}, got {status}: {}",
            short(&resp.text)
        ));
    }
    let success = (200..300).contains(&status);
    // Open311's errors are its own lists (tests/api/open311.rs checks them).
    let open311 = row.path.starts_with("/open311/");
    if !success && !open311 && resp.header("content-type") != Some("application/problem+json") {
        fail(format!(
            "error {status} is not problem+json: {}",
            short(&resp.text)
        ));
    }

    let issues_tokens = ISSUES_TOKENS.contains(&row.path);
    if let Some(secret) = leaked_secret(&resp.text) {
        fail(format!("leaks {secret}"));
    }
    if !issues_tokens && resp.text.contains("refresh_token") {
        fail(format!("carries a refresh token: {}", short(&resp.text)));
    }
    // Refresh tokens are random, so any match is an echo. Access tokens are deterministic
    // (same claims in the same second give the same JWT), so login and refresh may
    // legitimately issue one equal to the fixture's.
    let access_tokens = fx.w.tokens.values().filter(|_| !issues_tokens);
    if fx
        .refresh
        .values()
        .chain(access_tokens)
        .any(|t| resp.text.contains(t.as_str()))
    {
        fail("echoes a fixture token".into());
    }

    if success
        && resp
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    {
        let body = resp.json();
        let hidden = hidden_ids(&fx.w, caller);
        for id in returned_ids(&body) {
            if let Some(key) = hidden.get(&id) {
                fail(format!("returns {key}, outside the caller's scope"));
            }
        }
        let unfiltered = row.method == Method::GET && req.path == row.path;
        if let Some(collection) = row.lists.filter(|_| unfiltered) {
            let expected: BTreeSet<String> = visible(caller, collection)
                .into_iter()
                .map(str::to_string)
                .collect();
            let got: BTreeSet<String> = returned_ids(&body)
                .iter()
                .map(|id| key_of(&fx.w, id))
                .collect();
            if got != expected {
                fail(format!("lists {got:?}, expected {expected:?}"));
            }
        }
    }

    if row.is_write() {
        for broken in versions_without_events(&fx.app) {
            fail(broken);
        }
    }
    if let Some(before) = before {
        let changed = snapshot(&fx.app) != before;
        let should_change = success && req.changes;
        if changed != should_change {
            let did = if changed { "changed" } else { "did not change" };
            fail(format!("answered {status} and the database {did}"));
        }
    }
    if status == 201 {
        match resp.header("location") {
            Some(location) => {
                let fetched = fx.app.get(location, fx.w.token("admin")).await;
                if fetched.status.as_u16() != 200 {
                    fail(format!(
                        "created, but admin gets {} at {location}",
                        fetched.status
                    ));
                }
            }
            None => fail("created without a Location".into()),
        }
    }
    failures
}

/// Which rows a test runs: the reads (on one shared app), or one half of the writes (a
/// fresh app per case; halved so that the two run in parallel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Reads,
    Writes(usize),
}

async fn run_matrix(part: Part) {
    let started = Instant::now();
    let rows: Vec<Row> = match part {
        Part::Reads => rows().into_iter().filter(|r| !r.is_write()).collect(),
        Part::Writes(half) => {
            let writes = rows().into_iter().filter(Row::is_write);
            writes
                .enumerate()
                .filter(|(i, _)| i % 2 == half)
                .map(|(_, r)| r)
                .collect()
        }
    };
    let shared = if part == Part::Reads {
        Some(fixture().await)
    } else {
        None
    };
    let before = shared.as_ref().map(|fx| snapshot(&fx.app));
    let (mut cases, mut failures) = (0, Vec::new());
    for row in &rows {
        let row_cases = row.cases().unwrap_or_else(|e| panic!("{}: {e}", row.op()));
        for (caller, scope, expected) in row_cases {
            cases += 1;
            let fresh;
            let fx = match &shared {
                Some(fx) => fx,
                None => {
                    fresh = fixture().await;
                    &fresh
                }
            };
            failures.extend(run_case(fx, row, caller, scope, expected, cases).await);
        }
    }
    if let (Some(fx), Some(before)) = (&shared, before) {
        assert_eq!(snapshot(&fx.app), before, "a read changed the database");
    }
    let ops = rows.len();
    println!(
        "authz matrix, {part:?}: {cases} cases over {ops} operations in {:.2?}",
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[actix_web::test]
async fn authz_matrix_reads() {
    run_matrix(Part::Reads).await;
}

#[actix_web::test]
async fn authz_matrix_writes_1() {
    run_matrix(Part::Writes(0)).await;
}

#[actix_web::test]
async fn authz_matrix_writes_2() {
    run_matrix(Part::Writes(1)).await;
}

/// Every fixture record of every kind with a GET operation, read by every role: 200 when
/// [`VISIBLE`] lists it for that role, 404 otherwise — so ancestors, siblings, cousins and
/// departments are covered, not only the matrix's inside and outside targets.
#[actix_web::test]
async fn authz_visibility_sweep() {
    let fx = fixture().await;
    let mut failures = Vec::new();
    let reads = [
        ("units", "/api/v1/units/{id}"),
        ("units", "/api/v1/units/{id}/subtree"),
        ("pairings", "/api/v1/pairings/{id}"),
        ("campaigns", "/api/v1/campaigns/{id}"),
        ("campaigns", "/api/v1/campaigns/{id}/events"),
        ("meetings", "/api/v1/meetings/{id}"),
        ("directives", "/api/v1/directives/{id}"),
        ("directives", "/api/v1/directives/{id}/events"),
        ("tasks", "/api/v1/tasks/{id}"),
        ("tasks", "/api/v1/tasks/{id}/events"),
        ("activities", "/api/v1/activities/{id}"),
        ("categories", "/api/v1/categories/{id}"),
        ("sites", "/api/v1/sites/{id}"),
        ("attachments", "/api/v1/attachments/{id}"),
        ("rectifications", "/api/v1/rectifications/{id}"),
        ("rectifications", "/api/v1/rectifications/{id}/events"),
        ("patrols", "/api/v1/patrols/{id}"),
        ("patrols", "/api/v1/patrols/{id}/events"),
        ("checklists", "/api/v1/checklists/{id}"),
        ("inspections", "/api/v1/inspections/{id}"),
    ];
    for caller in CALLERS.into_iter().filter(|c| *c != ANON) {
        // Accounts too, for the roles that may read them at all (the others get 403 before
        // anything is looked up).
        let accounts = [("users", "/api/v1/users/{id}")];
        let reads_accounts = matches!(caller, "admin" | "office");
        let all = reads
            .iter()
            .chain(accounts.iter().filter(|_| reads_accounts));
        for &(collection, template) in all {
            let seen = visible(caller, collection);
            for (key, id) in fx.w.collection(collection) {
                let expected = if seen.contains(&key.as_str()) {
                    200
                } else {
                    404
                };
                let resp = fx
                    .app
                    .get(&template.replace("{id}", id), fx.w.token(caller))
                    .await;
                if resp.status.as_u16() != expected {
                    failures.push(format!(
                        "{caller} GET {template} of {key}: expected {expected}, got {}",
                        resp.status
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every role's whole sync feed, from the beginning: it holds exactly the fixture records
/// [`VISIBLE`] lists for that role, of every kind the feed carries.
#[actix_web::test]
async fn authz_sync_feed_sweep() {
    let fx = fixture().await;
    let kinds = [
        ("unit", "units"),
        ("category", "categories"),
        ("site", "sites"),
        ("checklist", "checklists"),
        ("task", "tasks"),
        ("item", "rectifications"),
        ("patrol", "patrols"),
    ];
    let mut failures = Vec::new();
    for caller in CALLERS.into_iter().filter(|c| *c != ANON) {
        let mut upserts: BTreeSet<(String, String)> = BTreeSet::new();
        let mut cursor = String::new();
        for round in 0.. {
            assert!(round < 500, "{caller}: the feed never ended");
            let path = match cursor.as_str() {
                "" => "/api/v1/sync?limit=50".to_string(),
                c => format!("/api/v1/sync?limit=50&cursor={c}"),
            };
            let page = fx.app.get(&path, fx.w.token(caller)).await.ok(200);
            for change in page["changes"].as_array().expect("changes") {
                let key = (
                    change["kind"].as_str().expect("kind").to_string(),
                    change["id"].as_str().expect("id").to_string(),
                );
                if change["op"] == "upsert" {
                    assert!(upserts.insert(key), "{caller}: twice in one feed: {change}");
                }
            }
            cursor = page["next_cursor"].as_str().expect("cursor").to_string();
            if page["has_more"] == false && page["pending"] == false {
                break;
            }
            if page["pending"] == true {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        for (kind, collection) in kinds {
            let seen = visible(caller, collection);
            for (key, id) in fx.w.collection(collection) {
                let expected = seen.contains(&key.as_str());
                let found = upserts.contains(&(kind.to_string(), id.clone()));
                if expected != found {
                    failures.push(format!(
                        "{caller}: {collection} {key} {} the feed",
                        if found {
                            "unexpectedly in"
                        } else {
                            "missing from"
                        }
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn spec() -> Value {
    serde_json::from_str(SPEC).expect("openapi/openapi.json is JSON")
}

/// `(METHOD, path, operation)` for every operation of the spec.
fn spec_operations(spec: &Value) -> Vec<(String, String, Value)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let paths = spec["paths"].as_object().expect("paths");
    let mut ops = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

#[test]
fn every_spec_operation_has_a_row() {
    let spec = spec();
    let operations = spec_operations(&spec);
    let in_spec: BTreeSet<String> = operations
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    let rows = rows();
    let mut in_table = BTreeSet::new();
    for row in &rows {
        assert!(in_table.insert(row.op()), "two rows for {}", row.op());
    }
    let missing: Vec<&String> = in_spec.difference(&in_table).collect();
    let extra: Vec<&String> = in_table.difference(&in_spec).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the authorization matrix must cover exactly the spec's operations\n\
         in the spec, not in the table (add a row to `rows`): {missing:#?}\n\
         in the table, not in the spec: {extra:#?}"
    );

    // Every row's cases are well-formed, and every status it names is documented.
    let mut undocumented = Vec::new();
    for row in &rows {
        let cases = row.cases().unwrap_or_else(|e| panic!("{}: {e}", row.op()));
        let responses = &spec["paths"][row.path][row.method.as_str().to_lowercase()]["responses"];
        let statuses: BTreeSet<u16> = cases.into_iter().map(|(_, _, s)| s).collect();
        for status in statuses {
            if responses.get(status.to_string()).is_none() {
                undocumented.push(format!("{} answers {status}", row.op()));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "statuses missing from the spec: {undocumented:#?}"
    );
}

/// Fields a client must not set, with a plausible value; each is tried on every request
/// schema that lacks it.
fn server_set_fields(w: &World) -> Vec<(&'static str, Value)> {
    vec![
        ("id", json!(uuid::Uuid::now_v7().to_string())),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2020-01-01T00:00:00Z")),
        ("path", json!("/")),
        ("password_hash", json!("x")),
        ("token_hash", json!("x")),
        ("active", json!(true)),
        ("role", json!("admin")),
        ("kind", json!("district")),
        ("username", json!("matrix-renamed")),
        ("user_id", json!(w.user("admin"))),
    ]
}

#[actix_web::test]
async fn server_set_fields_are_rejected() {
    let spec = spec();
    let rows = rows();
    let fx = fixture().await;
    let mut tried = 0;
    for (method, path, op) in spec_operations(&spec) {
        let Some(body) = op.get("requestBody") else {
            continue;
        };
        // A file upload's form has one field the server reads (`file`); it sets nothing
        // else from the form, so there is no field to smuggle in.
        if body["content"].get("multipart/form-data").is_some() {
            continue;
        }
        // Open311's report is a form whose fields are all the client's (unknown ones are
        // refused by name: tests/api/open311.rs).
        if body["content"]
            .get("application/x-www-form-urlencoded")
            .is_some()
        {
            continue;
        }
        let schema_ref = body["content"]["application/json"]["schema"]["$ref"].as_str();
        let schema_ref = schema_ref
            .unwrap_or_else(|| panic!("{method} {path}: expected a JSON body schema by $ref"));
        let name = schema_ref.trim_start_matches("#/components/schemas/");
        let schema = &spec["components"]["schemas"][name];
        assert_eq!(
            schema["additionalProperties"], false,
            "{name} must reject unknown fields"
        );
        let properties = schema["properties"].as_object().expect("schema properties");
        let row = rows
            .iter()
            .find(|r| r.op() == format!("{method} {path}"))
            .expect("a row");
        let fields: Vec<_> = server_set_fields(&fx.w)
            .into_iter()
            .filter(|(f, _)| !properties.contains_key(*f))
            .collect();
        assert!(!fields.is_empty(), "{name}: no server-set field to try");
        // Patrols are written by their inspector only: the others never get to the body.
        let caller = if path.starts_with("/api/v1/patrols") {
            "inspector"
        } else {
            "admin"
        };
        for (field, value) in fields {
            tried += 1;
            let ctx = Ctx {
                w: &fx.w,
                refresh: &fx.refresh,
                caller,
                scope: Scope::In,
                template: row.path,
                kind: row.kind,
                n: tried,
            };
            let mut req = (row.build)(&ctx);
            let body = req
                .body
                .as_mut()
                .and_then(Value::as_object_mut)
                .expect("a JSON object body");
            body.insert(field.to_string(), value);
            let before = snapshot(&fx.app);
            let resp = fx
                .app
                .send(
                    row.method.clone(),
                    &req.path,
                    Some(fx.w.token(caller)),
                    req.body.as_ref(),
                )
                .await;
            let status = resp.status.as_u16();
            assert_eq!(status, 422, "{method} {path} with `{field}`: {}", resp.text);
            resp.names_field(422, field);
            assert!(
                !resp.text.contains("$argon2"),
                "{method} {path}: {}",
                resp.text
            );
            assert_eq!(
                snapshot(&fx.app),
                before,
                "{method} {path} with `{field}` changed the database"
            );
        }
    }
    assert!(tried > 0, "the spec has no JSON request bodies?");
}
