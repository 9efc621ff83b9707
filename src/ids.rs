//! The ids of every record, one newtype each, so a unit id cannot be passed where a user
//! id is expected. Each is a UUID (v7 when the server mints it: time-ordered, and a client
//! working offline can mint its own), stored as text. See [`crate::id_type`].

use crate::id_type;

id_type!(
    /// A unit of the tree (district, town, village, grid, department…).
    UnitId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A department ↔ town pairing (包联).
    PairingId
);
id_type!(
    /// A login session: the family of refresh tokens one login started.
    SessionId
);
id_type!(
    /// One refresh token of a session.
    RefreshTokenId
);
