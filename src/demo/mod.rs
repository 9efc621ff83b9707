//! Demo data: the district of 菏泽高新区 as the July 2020 news describes it (towns,
//! streets, villages, departments, grids with boundaries, pairings) and one user per role,
//! described in `district.json` and loaded by [`crate::world::load`].

use crate::auth::password;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::world::{self, Description, Loaded};

const DISTRICT_JSON: &str = include_str!("district.json");

pub fn district() -> AppResult<Description> {
    Description::parse(DISTRICT_JSON)
}

/// Loads the demo district; `progress` is called once per record.
pub fn load(
    conn: &mut DbConnection,
    attachments: &crate::attachments::store::Store,
    progress: &mut dyn FnMut(&str),
) -> AppResult<(Loaded, Description)> {
    let district = district()?;
    let with = world::Loader {
        hash: &mut |p| password::hash(p),
        now: crate::db::now(),
        progress,
        attachments: Some(attachments),
    };
    let loaded = world::load(conn, &district, with)?;
    Ok((loaded, district))
}

/// The demo app's Open311 key, issued by the district office (`office` of `HZGX`) when
/// the demo has no working one: the key to print, once (see `docs/open311.md`).
pub fn open311_key(conn: &mut DbConnection, loaded: &Loaded) -> AppResult<Option<String>> {
    let (Some(office), Some(district)) = (loaded.users.get("office"), loaded.units.get("HZGX"))
    else {
        return Err(crate::error::AppError::internal(
            "the demo district lacks its office (office of HZGX)",
        ));
    };
    crate::db::write_tx(conn, |conn| {
        crate::open311::model::demo_key(conn, (*office, *district), crate::db::now())
    })
}
