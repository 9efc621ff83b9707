//! The unit tree's vocabulary, shared by every layer: the kinds of unit and the shape they
//! make (which kind hangs under which). Units are stored with materialised paths
//! (`/<root id>/…/<own id>/`); `auth::scope` reads scope from them, the `units` domain
//! keeps them.

crate::text_enum! {
    // The kinds of responsible unit (no doc comment: it would change the published spec).
    pub enum UnitKind {
        District = "district",
        Town = "town",
        Street = "street",
        Department = "department",
        Village = "village",
        Community = "community",
        Grid = "grid",
    }
}

impl UnitKind {
    /// The tree's shape: which kind of unit may hang under which. `None` is the root.
    pub fn may_have_parent(self, parent: Option<UnitKind>) -> bool {
        use UnitKind::*;
        matches!(
            (self, parent),
            (District, None)
                | (Town | Street | Department, Some(District))
                | (Village | Community, Some(Town | Street))
                | (Grid, Some(Town | Street | Village | Community))
        )
    }

    /// What [`may_have_parent`](Self::may_have_parent) requires, in words.
    pub fn parent_rule(self) -> &'static str {
        match self {
            UnitKind::District => "a district has no parent",
            UnitKind::Town | UnitKind::Street | UnitKind::Department => "must be a district",
            UnitKind::Village | UnitKind::Community => "must be a town or street",
            UnitKind::Grid => "must be a town, street, village or community",
        }
    }
}
