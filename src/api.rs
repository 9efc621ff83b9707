//! Every route of the service, composed once from each domain's `configure`. Registered
//! through utoipa's actix integration, so each route reaches the OpenAPI document
//! (`openapi::document` reads it from here; `app::build` serves it).

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    activities, attachments, auth, campaigns, categories, checklists, directives, inspections,
    meetings, notifications, open311, ops, pairings, patrols, rectifications, sites, sync, tasks,
    units, users,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(ops::routes::configure)
        .configure(open311::routes::configure)
        .service(
            scope::scope("/api/v1")
                .configure(auth::routes::configure)
                .configure(users::routes::configure)
                .configure(units::routes::configure)
                .configure(pairings::routes::configure)
                .configure(campaigns::routes::configure)
                .configure(meetings::routes::configure)
                .configure(directives::routes::configure)
                .configure(tasks::routes::configure)
                .configure(activities::routes::configure)
                .configure(notifications::routes::configure)
                .configure(categories::routes::configure)
                .configure(sites::routes::configure)
                .configure(attachments::routes::configure)
                .configure(rectifications::routes::configure)
                .configure(patrols::routes::configure)
                .configure(checklists::routes::configure)
                .configure(inspections::routes::configure)
                .configure(open311::routes::configure_keys)
                .configure(sync::routes::configure),
        );
}
