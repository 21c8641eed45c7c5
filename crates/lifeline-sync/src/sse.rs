//! An incremental Server-Sent Events parser (the `text/event-stream` format): bytes in,
//! events out, with a cap on the size of a line and of an event.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the event stream sent an event larger than {0} bytes")]
pub struct TooLarge(pub usize);

#[derive(Debug)]
pub struct SseParser {
    buffer: Vec<u8>,
    event: String,
    id: Option<String>,
    data: String,
    max_event: usize,
}

impl SseParser {
    pub fn new(max_event: usize) -> SseParser {
        SseParser {
            buffer: Vec::new(),
            event: String::new(),
            id: None,
            data: String::new(),
            max_event,
        }
    }

    /// Feeds a chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, TooLarge> {
        self.buffer.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.buffer.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.line(&String::from_utf8_lossy(&line), &mut out);
        }
        if self.buffer.len() + self.data.len() > self.max_event {
            return Err(TooLarge(self.max_event));
        }
        Ok(out)
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if !self.data.is_empty() || !self.event.is_empty() {
                if self.data.ends_with('\n') {
                    self.data.pop();
                }
                out.push(SseEvent {
                    event: if self.event.is_empty() {
                        "message".into()
                    } else {
                        std::mem::take(&mut self.event)
                    },
                    id: self.id.clone(),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            return;
        }
        if line.starts_with(':') {
            return; // a comment: the hub's heartbeat
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_comments_are_skipped() {
        let mut p = SseParser::new(1024);
        assert!(p.push(b": heartbeat\n\nevent: req").expect("ok").is_empty());
        let events = p
            .push(b"uest\r\nid: a.7\ndata: {\"x\":\ndata: 1}\n\n")
            .expect("ok");
        assert_eq!(
            events,
            [SseEvent {
                event: "request".into(),
                id: Some("a.7".into()),
                data: "{\"x\":\n1}".into()
            }]
        );
    }

    #[test]
    fn oversized_events_are_refused() {
        let mut p = SseParser::new(16);
        assert!(p.push(b"data: 0123456789abcdefghij").is_err());
    }
}
