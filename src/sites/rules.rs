//! What a site is: its kinds and the bounds on its fields.

use crate::text_enum;

text_enum! {
    /// What kind of place a site is.
    pub enum SiteKind {
        PublicFacility = "public_facility",
        /// 公益广告牌, 宣传栏.
        PosterBoard = "poster_board",
        /// 节制闸.
        SluiceGate = "sluice_gate",
        /// 泵站.
        PumpingStation = "pumping_station",
        /// A street of shops (沿街商铺).
        ShopStreet = "shop_street",
        Market = "market",
        School = "school",
        Other = "other",
    }
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ADDRESS_CHARS: usize = 200;
