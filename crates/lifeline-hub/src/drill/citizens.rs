//! The drill's citizens answer: the drill is the channel of the requests it takes in, so it
//! carries the officers' messages to its made-up citizens, reports them sent, delivered and
//! read, and has each citizen write back, as a real chat channel would.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lifeline_core::model::media::{sha256_hex, sniff};
use lifeline_core::model::{Delivery, MessageKind};
use lifeline_core::protocol::{WireInboundMedia, WireInboundMessage, WireReceipt};
use lifeline_core::synth::media::jpeg_with_gps;

use crate::HubState;

/// How the drill names itself as the channel of its requests (its intake's audit name).
pub const DRILL_CHANNEL: &str = "drill";

/// What the citizens write back, by the language the officer wrote in.
const ANSWERS_ZH: &[&str] = &[
    "收到，谢谢！我们现在在酒店大堂，一共二十多人，有两位老人行动不便。",
    "好的，我们马上过去。请问需要带护照吗？",
    "谢谢领事馆，我的手机快没电了，稍后再联系。",
];
const ANSWERS_EN: &[&str] = &[
    "Thank you! We are in the hotel lobby, about twenty of us; two elderly people cannot walk far.",
    "OK, we are on our way. Do we need to bring our passports?",
    "Thanks. My phone battery is low, I will write again later.",
];

/// The drill's photo of a flooded street and its voice message.
const STREET_JPG: &[u8] = include_bytes!("../../drill-media/street.jpg");
const VOICE_OGG: &[u8] = include_bytes!("../../drill-media/voice.ogg");

/// One answer in three comes with a photo taken where the citizen is (its EXIF says so, as
/// a phone's would), one in three with a voice message; uploaded as a channel does.
fn media_answer(
    store: &dyn crate::store::HubStore,
    request_id: &str,
    pick: usize,
    chinese: bool,
) -> Result<Option<WireInboundMessage>, crate::store::HubError> {
    let (kind, bytes, name, caption) = match pick % 3 {
        0 => {
            let Some(at) = store.get(request_id)?.and_then(|r| r.location) else {
                return Ok(None);
            };
            // A few dozen metres from where the request was placed.
            let photo = jpeg_with_gps(STREET_JPG, at.lat + 0.0004, at.lon - 0.0003);
            let caption = if chinese {
                "这是我们这里的情况"
            } else {
                "This is where we are"
            };
            (MessageKind::Image, photo, "IMG_0412.jpg", caption)
        }
        1 => (MessageKind::Voice, VOICE_OGG.to_vec(), "voice.ogg", ""),
        _ => return Ok(None),
    };
    let sniffed = sniff(&bytes, None)
        .map_err(|e| crate::store::HubError::Invalid(format!("drill media: {e}")))?;
    let sha256 = sha256_hex(&bytes);
    store.put_media(
        &sha256,
        sniffed.media_type,
        &bytes,
        DRILL_CHANNEL,
        Utc::now(),
    )?;
    Ok(Some(WireInboundMessage {
        id: format!("media-{pick:016x}"),
        kind,
        text: caption.to_owned(),
        position: None,
        media: Some(WireInboundMedia {
            sha256,
            name: Some(name.to_owned()),
        }),
        sent_at: None,
    }))
}

/// Carries the officers' messages on drill requests until the hub stops.
pub async fn answer(state: Arc<HubState>) {
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let store = Arc::clone(&state.store);
        let carried =
            tokio::task::spawn_blocking(move || -> Result<usize, crate::store::HubError> {
                let waiting = store.channel_outbox(DRILL_CHANNEL, 50)?;
                for m in &waiting {
                    for delivery in [Delivery::Sent, Delivery::Delivered, Delivery::Read] {
                        store.receipt(
                            &m.id,
                            DRILL_CHANNEL,
                            &WireReceipt {
                                delivery,
                                reason: None,
                            },
                            Utc::now(),
                        )?;
                    }
                    let chinese = m
                        .text
                        .chars()
                        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
                    let answers = if chinese { ANSWERS_ZH } else { ANSWERS_EN };
                    let pick = m.id.bytes().fold(0usize, |a, b| {
                        a.wrapping_mul(31).wrapping_add(usize::from(b))
                    });
                    store.message_in(
                        &m.request_id,
                        WireInboundMessage {
                            id: format!("re-{pick:016x}"),
                            kind: MessageKind::Text,
                            text: answers[pick % answers.len()].to_owned(),
                            position: None,
                            media: None,
                            sent_at: None,
                        },
                        DRILL_CHANNEL,
                        Utc::now(),
                    )?;
                    // Some send a photo of where they are, or a voice message, as well.
                    if let Some(file) = media_answer(store.as_ref(), &m.request_id, pick, chinese)?
                    {
                        store.message_in(&m.request_id, file, DRILL_CHANNEL, Utc::now())?;
                    }
                }
                Ok(waiting.len())
            })
            .await;
        match carried {
            Ok(Ok(n)) if n > 0 => {
                if let Ok(head) = state.store.head() {
                    state.announce(head);
                }
            }
            Ok(Err(e)) => tracing::warn!("drill citizens: {e}"),
            _ => {}
        }
    }
}
