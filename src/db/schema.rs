//! The diesel schema shared by both backends. Written by hand (not `diesel print-schema`)
//! because one file must describe the SQLite and PostgreSQL migrations alike.

diesel::table! {
    units (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Text>,
        path -> Text,
        boundary -> Nullable<Text>,
        min_lon -> Nullable<Double>,
        min_lat -> Nullable<Double>,
        max_lon -> Nullable<Double>,
        max_lat -> Nullable<Double>,
        leader_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        unit_id -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        must_change_password -> Bool,
        version -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_throttles (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        in_flight -> Integer,
    }
}

diesel::table! {
    pairings (id) {
        id -> Text,
        department_id -> Text,
        partner_id -> Text,
        note -> Text,
        created_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        description -> Text,
        starts_on -> Date,
        ends_on -> Date,
        status -> Text,
        lead_unit_id -> Text,
        scheme_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    meetings (id) {
        id -> Text,
        campaign_id -> Text,
        unit_id -> Text,
        title -> Text,
        held_at -> Timestamp,
        place -> Text,
        chaired_by -> Text,
        summary -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    meeting_units (meeting_id, unit_id) {
        meeting_id -> Text,
        unit_id -> Text,
    }
}

diesel::table! {
    directives (id) {
        id -> Text,
        campaign_id -> Text,
        meeting_id -> Nullable<Text>,
        unit_id -> Text,
        title -> Text,
        body -> Text,
        issued_by -> Text,
        priority -> Text,
        default_due_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        directive_id -> Text,
        campaign_id -> Text,
        unit_id -> Text,
        assignee_id -> Nullable<Text>,
        title -> Text,
        priority -> Text,
        due_at -> Timestamp,
        original_due_at -> Timestamp,
        status -> Text,
        progress -> Integer,
        rework_count -> Integer,
        weight -> Integer,
        extension_due_at -> Nullable<Timestamp>,
        extension_note -> Nullable<Text>,
        extension_requested_by -> Nullable<Text>,
        extension_requested_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        submitted_by -> Nullable<Text>,
        accepted_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    activities (id) {
        id -> Text,
        campaign_id -> Text,
        unit_id -> Text,
        title -> Text,
        date -> Date,
        place -> Text,
        participants -> Integer,
        volunteer_hours -> Double,
        beneficiaries -> Integer,
        description -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        entity -> Text,
        entity_id -> Text,
        actor_id -> Nullable<Text>,
        at -> Timestamp,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
        changes -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        task_id -> Nullable<Text>,
        title -> Text,
        body -> Text,
        dedup_key -> Nullable<Text>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        rectification_id -> Nullable<Text>,
    }
}

diesel::table! {
    reminders (record, kind, due_at) {
        record -> Text,
        kind -> Text,
        due_at -> Timestamp,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    patrol_visit_attachments (visit_id, attachment_id) {
        visit_id -> Text,
        attachment_id -> Text,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        body -> Text,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    job_claims (name) {
        name -> Text,
        claimed_by -> Text,
        claimed_until -> Timestamp,
        last_run_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    categories (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        description -> Text,
        default_severity -> Text,
        deadline_hours -> Integer,
        route_kind -> Text,
        route_unit_id -> Nullable<Text>,
        attributes -> Text,
        active -> Bool,
        managed_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    sites (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        lat -> Double,
        lon -> Double,
        grid_id -> Text,
        unit_id -> Text,
        address -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        sha256 -> Text,
        content_type -> Text,
        bytes -> BigInt,
        file_name -> Text,
        taken_at -> Nullable<Timestamp>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        uploaded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rectifications (id) {
        id -> Text,
        number -> Text,
        source -> Text,
        category_id -> Text,
        description -> Text,
        lat -> Double,
        lon -> Double,
        address -> Text,
        grid_id -> Text,
        unit_id -> Nullable<Text>,
        severity -> Text,
        due_at -> Timestamp,
        original_due_at -> Timestamp,
        attributes -> Text,
        campaign_id -> Nullable<Text>,
        site_id -> Nullable<Text>,
        duplicate_of -> Nullable<Text>,
        reported_by -> Text,
        status -> Text,
        rework_count -> Integer,
        extension_due_at -> Nullable<Timestamp>,
        extension_note -> Nullable<Text>,
        extension_requested_by -> Nullable<Text>,
        extension_requested_at -> Nullable<Timestamp>,
        assigned_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        submitted_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    rectification_attachments (rectification_id, attachment_id) {
        rectification_id -> Text,
        attachment_id -> Text,
        stage -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    rectification_numbers (year) {
        year -> Integer,
        last -> Integer,
    }
}

diesel::table! {
    patrols (id) {
        id -> Text,
        grid_id -> Text,
        inspector_id -> Text,
        campaign_id -> Nullable<Text>,
        note -> Text,
        status -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        distance_m -> Double,
        point_count -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    patrol_points (patrol_id, t) {
        patrol_id -> Text,
        t -> Timestamp,
        lat -> Double,
        lon -> Double,
        accuracy_m -> Nullable<Double>,
    }
}

diesel::table! {
    patrol_items (patrol_id, rectification_id) {
        patrol_id -> Text,
        rectification_id -> Text,
    }
}

diesel::table! {
    patrol_visits (id) {
        id -> Text,
        patrol_id -> Text,
        site_id -> Text,
        at -> Timestamp,
        note -> Text,
        attachment_ids -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    checklists (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        managed_by -> Text,
        latest_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    checklist_versions (checklist_id, number) {
        checklist_id -> Text,
        number -> Integer,
        name -> Text,
        items -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    inspections (id) {
        id -> Text,
        checklist_id -> Text,
        checklist_version -> Integer,
        site_id -> Text,
        kind -> Text,
        answers -> Text,
        attachment_ids -> Text,
        score -> Integer,
        max_score -> Integer,
        percent -> Double,
        failed_items -> Text,
        patrol_id -> Nullable<Text>,
        campaign_id -> Nullable<Text>,
        inspected_by -> Text,
        created_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    inspection_items (inspection_id, item_key) {
        inspection_id -> Text,
        item_key -> Text,
        rectification_id -> Text,
    }
}

diesel::table! {
    /// One row per record at the position of its last change (see migrations …_sync).
    sync_log (kind, entity_id) {
        kind -> Text,
        entity_id -> Text,
        tx -> BigInt,
        seq -> BigInt,
    }
}

diesel::table! {
    sync_anchors (kind, entity_id, anchor) {
        kind -> Text,
        entity_id -> Text,
        anchor -> Text,
        left_tx -> Nullable<BigInt>,
        left_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    sync_epoch (id) {
        id -> Integer,
        epoch -> BigInt,
    }
}

diesel::table! {
    open311_keys (id) {
        id -> Text,
        name -> Text,
        key_hash -> Text,
        key_prefix -> Text,
        reporter_id -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    open311_reports (rectification_id) {
        rectification_id -> Text,
        key_id -> Text,
        email -> Nullable<Text>,
        device_id -> Nullable<Text>,
        account_id -> Nullable<Text>,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        phone -> Nullable<Text>,
        media_url -> Nullable<Text>,
        address_id -> Nullable<Text>,
    }
}

diesel::joinable!(users -> units (unit_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(tasks -> directives (directive_id));
diesel::joinable!(tasks -> units (unit_id));
diesel::joinable!(directives -> campaigns (campaign_id));
diesel::joinable!(meeting_units -> meetings (meeting_id));
diesel::joinable!(open311_reports -> open311_keys (key_id));
diesel::joinable!(open311_reports -> rectifications (rectification_id));

diesel::allow_tables_to_appear_in_same_query!(
    units,
    sync_log,
    sync_anchors,
    sync_epoch,
    users,
    refresh_tokens,
    sessions,
    login_throttles,
    pairings,
    campaigns,
    meetings,
    meeting_units,
    directives,
    tasks,
    activities,
    events,
    notifications,
    idempotency_keys,
    job_claims,
    categories,
    sites,
    attachments,
    rectifications,
    rectification_attachments,
    rectification_numbers,
    patrols,
    patrol_points,
    patrol_visits,
    patrol_visit_attachments,
    reminders,
    patrol_items,
    checklists,
    checklist_versions,
    inspections,
    inspection_items,
    open311_keys,
    open311_reports
);
