//! A small XML reader for the subset HLS reports use: nested elements with text, attributes
//! (read and ignored), comments, `<?...?>` and `<!...>` declarations, and the five predefined
//! entities. No namespaces, no CDATA, no DTD processing.

/// One element: its name, its text (concatenated, trimmed) and its child elements in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Follows a path of child names.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |e, n| e.child(n))
    }
}

/// Parses a document and returns its root element; the error says what is wrong and at which
/// byte offset.
pub fn parse(text: &str) -> Result<Element, String> {
    let b = text.as_bytes();
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            let end = text[i..].find('<').map_or(b.len(), |p| i + p);
            let chunk = decode(&text[i..end]);
            if let Some(top) = stack.last_mut() {
                if !chunk.trim().is_empty() {
                    top.text.push_str(chunk.trim());
                }
            }
            i = end;
            continue;
        }
        let rest = &text[i..];
        if rest.starts_with("<!--") {
            i += rest.find("-->").ok_or(format!("unterminated comment at byte {i}"))? + 3;
        } else if rest.starts_with("<?") {
            i += rest.find("?>").ok_or(format!("unterminated declaration at byte {i}"))? + 2;
        } else if rest.starts_with("<!") {
            i += rest.find('>').ok_or(format!("unterminated declaration at byte {i}"))? + 1;
        } else if let Some(close) = rest.strip_prefix("</") {
            let end = close.find('>').ok_or(format!("unterminated end tag at byte {i}"))?;
            let name = close[..end].trim();
            let done = stack.pop().filter(|e| e.name == name && !e.name.is_empty());
            let done = done.ok_or(format!("unexpected end tag </{name}> at byte {i}"))?;
            stack.last_mut().ok_or(format!("unexpected end tag </{name}> at byte {i}"))?.children.push(done);
            i += 2 + end + 1;
        } else {
            let end = rest.find('>').ok_or(format!("unterminated tag at byte {i}"))?;
            let inner = &rest[1..end];
            let self_closing = inner.ends_with('/');
            let inner = inner.trim_end_matches('/');
            let name = inner.split_whitespace().next().unwrap_or("").to_string();
            if name.is_empty() {
                return Err(format!("empty tag name at byte {i}"));
            }
            let el = Element { name, ..Default::default() };
            if self_closing {
                stack.last_mut().ok_or(format!("tag outside the document at byte {i}"))?.children.push(el);
            } else {
                stack.push(el);
            }
            i += end + 1;
        }
    }
    if stack.len() != 1 {
        let open = stack.last().map(|e| e.name.clone()).unwrap_or_default();
        return Err(format!("element <{open}> is not closed"));
    }
    let doc = stack.pop().unwrap_or_default();
    let mut roots = doc.children.into_iter();
    match (roots.next(), roots.next()) {
        (Some(root), None) => Ok(root),
        (None, _) => Err("no root element".into()),
        (Some(_), Some(_)) => Err("more than one root element".into()),
    }
}

fn decode(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_elements_and_text() {
        let doc = "<?xml version=\"1.0\"?>\n<!-- c --><a x=\"1\"><b>5 &lt; 6</b><c/><b>7</b></a>";
        let a = parse(doc).unwrap();
        assert_eq!(a.name, "a");
        assert_eq!(a.child("b").unwrap().text, "5 < 6");
        assert_eq!(a.children.len(), 3);
        assert!(a.path(&["c"]).is_some());
    }

    #[test]
    fn malformed_documents() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").unwrap_err().contains("not closed"));
        assert!(parse("").is_err());
        assert!(parse("<a></a><b></b>").is_err());
        assert!(parse("<a><!-- x").is_err());
        assert!(parse("</a>").is_err());
    }
}
