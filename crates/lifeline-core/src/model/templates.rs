//! The post's message templates: what officers write again and again, in both languages
//! the service uses. An officer inserts one, edits it, and sends it; the message records
//! which template it started from.

/// One template, by name, in Chinese and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    pub name: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

impl Template {
    /// The text in `language` (`zh` or anything else for English).
    pub fn text(&self, language: &str) -> &'static str {
        if language.starts_with("zh") {
            self.zh
        } else {
            self.en
        }
    }
}

pub const TEMPLATES: &[Template] = &[
    Template {
        name: "where_exactly",
        zh: "您好，这里是中国驻当地使领馆。请告诉我们您现在的准确位置（街道、门牌或附近的明显建筑），以及身边有几个人。",
        en: "Hello, this is the Chinese embassy. Please tell us exactly where you are now (street, number or a landmark nearby) and how many people are with you.",
    },
    Template {
        name: "help_on_the_way",
        zh: "我们已收到您的求助，正在联系当地警方和医疗机构。请保持手机畅通，留在安全的地方。",
        en: "We have your request and are contacting the local police and medical services. Keep your phone on and stay somewhere safe.",
    },
    Template {
        name: "shelter",
        zh: "最近的避难所位于市政厅广场，步行约十分钟。请带好证件和必需药品，注意余震。",
        en: "The nearest shelter is at the city hall square, about ten minutes on foot. Bring your documents and any medicine you need, and beware of aftershocks.",
    },
    Template {
        name: "documents",
        zh: "补办旅行证件请携带身份证明复印件和两张近期照片，到使领馆证件窗口办理。",
        en: "For an emergency travel document, bring a copy of any identity document and two recent photos to the consular window.",
    },
    Template {
        name: "call_us",
        zh: "如情况紧急，请拨打外交部全球领事保护与服务应急热线 +86-10-12308。",
        en: "If it is urgent, call the consular protection hotline +86-10-12308.",
    },
];

/// The template called `name`.
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_fits_a_message_in_both_languages() {
        for t in TEMPLATES {
            for text in [t.zh, t.en] {
                assert!(
                    !text.trim().is_empty()
                        && text.len() <= super::super::message::MAX_MESSAGE_BYTES,
                    "{}",
                    t.name
                );
            }
        }
        assert_eq!(
            template("shelter").map(|t| t.text("en")),
            Some(TEMPLATES[2].en)
        );
    }
}
