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
id_type!(
    /// A campaign (创建全国文明城市攻坚, 防汛备汛, 述职述廉…).
    CampaignId
);
id_type!(
    /// A meeting that issued directives.
    MeetingId
);
id_type!(
    /// A directive: a requirement issued within a campaign.
    DirectiveId
);
id_type!(
    /// A task: a directive split down to one responsible unit.
    TaskId
);
id_type!(
    /// A volunteer activity.
    ActivityId
);
id_type!(
    /// One entry of the append-only event store.
    EventId
);
id_type!(
    /// A notification in a user's inbox.
    NotificationId
);
id_type!(
    /// A category of problem (问题类别): 公益广告牌破损, 占道经营, 节制闸故障…
    CategoryId
);
id_type!(
    /// A site (点位) inspectors check: a poster board, a sluice gate, a market.
    SiteId
);
id_type!(
    /// An uploaded file: a photo or a document.
    AttachmentId
);
id_type!(
    /// A rectification item (整改事项): a reported problem to be fixed and checked. A phone
    /// working offline may mint its own (UUIDv7).
    RectificationId
);
id_type!(
    /// A patrol (巡查) of a grid by its inspector.
    PatrolId
);
id_type!(
    /// A site visited on a patrol.
    PatrolVisitId
);
id_type!(
    /// A checklist (检查表): a template inspections are scored against.
    ChecklistId
);
id_type!(
    /// An inspection of a site against a checklist.
    InspectionId
);
id_type!(
    /// An Open311 API key an outside app posts reports with.
    Open311KeyId
);
