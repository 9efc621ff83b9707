//! What admins send about pairings, and the only place it is checked.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::AppResult;
use crate::ids::UnitId;
use crate::pairings::rules::check_note;
use crate::validate::Checks;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"department_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "partner_id": "0193a0b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c", "note": "创城包联：网格巡查、入户宣传、志愿服务"}))]
pub struct NewPairing {
    #[schema(value_type = String, format = Uuid)]
    pub department_id: UnitId,
    #[schema(value_type = String, format = Uuid)]
    pub partner_id: UnitId,
    /// What the pairing covers, e.g. 网格巡查、入户宣传、志愿服务.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

impl NewPairing {
    pub fn validate(self) -> AppResult<NewPairing> {
        let mut c = Checks::new();
        c.check("note", check_note(&self.note));
        c.finish()?;
        Ok(self)
    }
}

/// Changes to a pairing: what it covers. (Its two units are what it is; pair anew instead.)
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "创城包联：网格巡查、入户宣传、志愿服务"}))]
pub struct PairingUpdate {
    /// What the pairing covers, e.g. 网格巡查、入户宣传、志愿服务.
    #[schema(max_length = 500, example = "创城包联：网格巡查、入户宣传、志愿服务")]
    pub note: String,
}

impl PairingUpdate {
    pub fn validate(self) -> AppResult<String> {
        let mut c = Checks::new();
        c.check("note", check_note(&self.note));
        c.finish()?;
        Ok(self.note)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum PairingSort {
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairingQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub department_id: Option<UnitId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub partner_id: Option<UnitId>,
    #[param(inline)]
    pub sort: Option<PairingSort>,
}

/// A checked pairing list filter.
#[derive(Debug, Clone, Default)]
pub struct PairingFilter {
    pub department_id: Option<UnitId>,
    pub partner_id: Option<UnitId>,
    pub sort: PairingSort,
}

impl PairingQuery {
    pub fn validate(self) -> AppResult<PairingFilter> {
        Ok(PairingFilter {
            department_id: self.department_id,
            partner_id: self.partner_id,
            sort: self.sort.unwrap_or_default(),
        })
    }
}
