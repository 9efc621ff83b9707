//! What the OpenAPI document says about routes, used where actix's router does not help:
//! what answers when no route matches (405 with `Allow` when the path exists under another
//! method, 404 otherwise, both as problem details), which template a path matches (for
//! metric labels), and which query parameters an operation takes (an unknown one is
//! refused, [`refuse_unknown_parameters`]).

use actix_web::{web, HttpRequest};

use crate::error::AppError;

/// The operations of the OpenAPI document by path shape: which methods each path has, and
/// which template a concrete path matches. Matching compares segments, no regex.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<&'static str>)>,
    /// The template of each route, in the same order (`/api/v1/units/{id}`).
    templates: Vec<String>,
    /// The query parameters of each route's operations, by method, in the same order.
    query_params: Vec<Vec<(&'static str, Vec<String>)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// A parameter, after a literal prefix within its segment (`{id}` has none,
    /// Open311's `services.{format}` has `services.`).
    Param(String),
}

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        use utoipa::openapi::path::{Operation, ParameterIn};
        let templates = doc.paths.paths.keys().cloned().collect();
        let query = |op: &Operation| -> Vec<String> {
            op.parameters
                .iter()
                .flatten()
                .filter(|p| p.parameter_in == ParameterIn::Query)
                .map(|p| p.name.clone())
                .collect()
        };
        let query_params = doc
            .paths
            .paths
            .values()
            .map(|item| {
                [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                ]
                .into_iter()
                .filter_map(|(m, op)| op.as_ref().map(|op| (m, query(op))))
                .collect()
            })
            .collect();
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .trim_matches('/')
                    .split('/')
                    .map(|s| {
                        if let Some(at) = s.find('{') {
                            Segment::Param(s[..at].to_string())
                        } else {
                            Segment::Literal(s.to_string())
                        }
                    })
                    .collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable {
            routes,
            templates,
            query_params,
        }
    }

    /// The query parameters the operation `method path` takes, when it is one.
    pub fn query_params(&self, method: &str, path: &str) -> Option<&[String]> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let find = |literal_only| {
            self.routes
                .iter()
                .position(|(segments, _)| Self::matches(segments, &parts, literal_only))
        };
        let route = find(true).or_else(|| find(false))?;
        self.query_params[route]
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, names)| names.as_slice())
    }

    fn matches(segments: &[Segment], parts: &[&str], literal_only: bool) -> bool {
        segments.len() == parts.len()
            && segments.iter().zip(parts).all(|(s, p)| match s {
                Segment::Param(prefix) => {
                    !literal_only && p.len() > prefix.len() && p.starts_with(prefix.as_str())
                }
                Segment::Literal(l) => l == p,
            })
    }

    /// The template `path` matches (a literal route before a parameter one), for a metric
    /// label: bounded by the document, whatever clients send.
    pub fn template(&self, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let find = |literal_only| {
            self.routes
                .iter()
                .position(|(segments, _)| Self::matches(segments, &parts, literal_only))
        };
        find(true)
            .or_else(|| find(false))
            .map(|i| self.templates[i].as_str())
    }

    /// Methods allowed on `path`, or `None` when no route has that shape.
    pub fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut allowed: Vec<&'static str> = Vec::new();
        for (segments, methods) in &self.routes {
            if Self::matches(segments, &parts, false) {
                for method in methods {
                    if !allowed.contains(method) {
                        allowed.push(method);
                    }
                }
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

impl RouteTable {
    /// Methods of a route whose path is exactly `path`, literally (no parameter segment).
    pub fn literal_allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.routes
            .iter()
            .find(|(segments, _)| Self::matches(segments, &parts, true))
            .map(|(_, methods)| methods.clone())
    }
}

/// Middleware: a query parameter the operation does not take is a 400 naming it, for every
/// operation the document lists (`?type=grid` for `?kind=grid` would otherwise list
/// everything, silently). Runs before routing, so before any handler.
pub async fn refuse_unknown_parameters(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let refusal = req.app_data::<web::Data<RouteTable>>().and_then(|table| {
        let method = match req.method().as_str() {
            "HEAD" => "GET",
            other => other,
        };
        let known = table.query_params(method, req.path())?;
        form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(name, _)| !known.iter().any(|k| k == name))
            .map(|(name, _)| {
                let message = if known.is_empty() {
                    "unknown parameter: this operation takes no query parameters".to_string()
                } else {
                    format!(
                        "unknown parameter: this operation takes {}",
                        known.join(", ")
                    )
                };
                AppError::bad_parameter(&name, message)
            })
    });
    let dialect = dialect_of(req.request(), req.path()).copied();
    match (refusal, dialect) {
        (Some(error), Some(dialect)) => {
            let response = (dialect.render)(req.path(), error);
            Ok(req.into_response(response))
        }
        (Some(error), None) => Ok(req.error_response(error)),
        (None, _) => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

/// How the paths under `prefix` write their errors when they are not problem+json (Open311
/// writes a list of `{code, description}`): a module that speaks such a dialect registers
/// one as app data in its own `configure`, and the fallbacks here answer in it.
#[derive(Clone, Copy)]
pub struct ErrorDialect {
    pub prefix: &'static str,
    pub render: fn(&str, AppError) -> actix_web::HttpResponse,
}

fn dialect_of<'a>(req: &'a HttpRequest, path: &str) -> Option<&'a ErrorDialect> {
    req.app_data::<web::Data<ErrorDialect>>()
        .map(|d| d.get_ref())
        .filter(|d| path.starts_with(d.prefix))
}

pub async fn not_found(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, AppError> {
    // A literal route (`/units/locate`) speaks for its path before any `{id}` route.
    let allowed = table
        .literal_allowed(req.path())
        .or_else(|| table.allowed(req.path()));
    let error = match allowed {
        Some(allow) => AppError::MethodNotAllowed { allow },
        None => AppError::NotFound("route"),
    };
    if let Some(dialect) = dialect_of(&req, req.path()) {
        return Ok((dialect.render)(req.path(), error));
    }
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_methods_by_path_shape() {
        let table = RouteTable::from_openapi(&crate::openapi::document());
        assert_eq!(
            table.allowed("/api/v1/units/0193/subtree"),
            Some(vec!["GET"])
        );
        let mut unit = table.allowed("/api/v1/units/abc").unwrap();
        unit.sort();
        assert_eq!(unit, ["DELETE", "GET", "PATCH"]);
        assert_eq!(table.allowed("/api/v1/nothing"), None);
        assert_eq!(table.allowed("/api/v1/units//subtree"), None);
        assert_eq!(
            table.literal_allowed("/api/v1/units/locate"),
            Some(vec!["GET"])
        );
        assert_eq!(table.literal_allowed("/api/v1/units/abc"), None);
        assert_eq!(
            table.template("/api/v1/units/locate"),
            Some("/api/v1/units/locate")
        );
        assert_eq!(
            table.template("/api/v1/units/abc"),
            Some("/api/v1/units/{id}")
        );
        assert_eq!(
            table.template("/api/v1/units/abc/subtree"),
            Some("/api/v1/units/{id}/subtree")
        );
        assert_eq!(table.template("/api/v1/nothing"), None);
        let list = table.query_params("GET", "/api/v1/units").unwrap();
        for name in ["page", "per_page", "parent_id", "kind", "q", "sort"] {
            assert!(list.iter().any(|n| n == name), "{name}");
        }
        assert_eq!(
            table.query_params("GET", "/api/v1/units/abc"),
            Some(&[][..])
        );
        assert_eq!(table.query_params("PUT", "/api/v1/units"), None);
    }
}
