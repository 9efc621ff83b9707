//! Open311's XML, written by hand: a small writer that escapes every text it is given,
//! and the element tree of each answer as the spec's examples nest it
//! (`<services><service>…`, `<service_requests><request>…`, `<errors><error>…`,
//! `<discovery>…<endpoints><endpoint>…<formats><format>…`). Element names are fixed
//! strings here; only text content comes from data, and it is always escaped.

use crate::open311::error::ErrorItem;
use crate::open311::model::{
    Created, Discovery, Service, ServiceDefinition, ServiceRequest, TokenAnswer,
};

/// An XML document being written.
pub struct Xml {
    out: String,
}

impl Default for Xml {
    fn default() -> Self {
        Xml::new()
    }
}

impl Xml {
    pub fn new() -> Xml {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"),
        }
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`, the text escaped; `<name/>` for none (the spec's empty values).
    pub fn leaf(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        match text {
            Some(text) => {
                self.open(name);
                escape_into(&mut self.out, text);
                self.close(name)
            }
            None => {
                self.out.push('<');
                self.out.push_str(name);
                self.out.push_str("/>");
                self
            }
        }
    }

    pub fn text(&mut self, name: &str, text: &str) -> &mut Self {
        self.leaf(name, Some(text))
    }

    pub fn finish(mut self) -> String {
        self.out.push('\n');
        self.out
    }
}

/// Escapes markup characters, and drops the characters XML 1.0 cannot carry at all (control
/// characters other than tab and line breaks; stored text refuses them anyway).
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

pub fn services(list: &[Service]) -> String {
    let mut x = Xml::new();
    x.open("services");
    for s in list {
        x.open("service")
            .text("service_code", &s.service_code)
            .text("service_name", &s.service_name)
            .text("description", &s.description)
            .text("metadata", bool_text(s.metadata))
            .text("type", s.kind.as_str())
            .text("keywords", &s.keywords)
            .text("group", &s.group)
            .close("service");
    }
    x.close("services");
    x.finish()
}

pub fn service_definition(d: &ServiceDefinition) -> String {
    let mut x = Xml::new();
    x.open("service_definition")
        .text("service_code", &d.service_code)
        .open("attributes");
    for a in &d.attributes {
        x.open("attribute")
            .text("variable", bool_text(a.variable))
            .text("code", &a.code)
            .text("datatype", a.datatype.as_str())
            .text("required", bool_text(a.required))
            .leaf("datatype_description", a.datatype_description.as_deref())
            .text("order", &a.order.to_string())
            .text("description", &a.description)
            .open("values");
        for v in &a.values {
            x.open("value")
                .text("key", &v.key)
                .text("name", &v.name)
                .close("value");
        }
        x.close("values").close("attribute");
    }
    x.close("attributes").close("service_definition");
    x.finish()
}

pub fn requests(list: &[ServiceRequest]) -> String {
    let mut x = Xml::new();
    x.open("service_requests");
    for r in list {
        x.open("request")
            .text("service_request_id", &r.service_request_id)
            .text("status", r.status.as_str())
            .leaf("status_notes", r.status_notes.as_deref())
            .text("service_name", &r.service_name)
            .text("service_code", &r.service_code)
            .text("description", &r.description)
            .leaf("agency_responsible", r.agency_responsible.as_deref())
            .leaf("service_notice", r.service_notice.as_deref())
            .text("requested_datetime", &r.requested_datetime)
            .text("updated_datetime", &r.updated_datetime)
            .leaf("expected_datetime", r.expected_datetime.as_deref())
            .text("address", &r.address)
            .leaf("address_id", r.address_id.as_deref())
            .leaf("zipcode", r.zipcode.as_deref())
            .text("lat", &r.lat.to_string())
            .text("long", &r.long.to_string())
            .leaf("media_url", r.media_url.as_deref())
            .close("request");
    }
    x.close("service_requests");
    x.finish()
}

pub fn created(list: &[Created]) -> String {
    let mut x = Xml::new();
    x.open("service_requests");
    for c in list {
        x.open("request")
            .text("service_request_id", &c.service_request_id)
            .text("token", &c.token)
            .leaf("service_notice", c.service_notice.as_deref())
            .leaf("account_id", c.account_id.as_deref())
            .close("request");
    }
    x.close("service_requests");
    x.finish()
}

pub fn tokens(list: &[TokenAnswer]) -> String {
    let mut x = Xml::new();
    x.open("service_requests");
    for t in list {
        x.open("request")
            .leaf("service_request_id", t.service_request_id.as_deref())
            .text("token", &t.token)
            .close("request");
    }
    x.close("service_requests");
    x.finish()
}

pub fn errors(list: &[ErrorItem]) -> String {
    let mut x = Xml::new();
    x.open("errors");
    for e in list {
        x.open("error")
            .text("code", &e.code.to_string())
            .text("description", &e.description)
            .close("error");
    }
    x.close("errors");
    x.finish()
}

pub fn discovery(d: &Discovery) -> String {
    let mut x = Xml::new();
    x.open("discovery")
        .text("changeset", &d.changeset)
        .text("contact", &d.contact)
        .text("key_service", &d.key_service)
        .open("endpoints");
    for e in &d.endpoints {
        x.open("endpoint")
            .text("specification", &e.specification)
            .text("url", &e.url)
            .text("changeset", &e.changeset)
            .text("type", &e.kind)
            .open("formats");
        for f in &e.formats {
            x.text("format", f);
        }
        x.close("formats").close("endpoint");
    }
    x.close("endpoints").close("discovery");
    x.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_unwritable_characters_dropped() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&\"c'\u{0}\u{7}行\r\n");
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&apos;行&#13;\n");
        let mut x = Xml::new();
        x.open("a").text("b", "</b><c>").leaf("d", None).close("a");
        assert!(x
            .finish()
            .ends_with("<a><b>&lt;/b&gt;&lt;c&gt;</b><d/></a>\n"));
    }
}
