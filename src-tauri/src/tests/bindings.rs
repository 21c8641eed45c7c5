//! `ui/src/ipc/bindings.ts` is generated from the DTOs. This test fails when it is stale;
//! `cargo xtask bindings` (UPDATE_BINDINGS=1) rewrites it.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use crate::dto::*;
use crate::error::{CommandError, ErrorCode};
use crate::startup::StartupProblem;

fn render() -> String {
    let cfg = Config::new();
    let mut out = String::from(
        "// Generated from src-tauri/src/dto.rs and error.rs by `cargo xtask bindings`. Do not edit.\n// A Rust test fails when this file is stale.\n\n",
    );
    macro_rules! declare {
        ($($t:ty),+ $(,)?) => {
            $( out.push_str(&format!("export {}\n\n", <$t as TS>::decl(&cfg))); )+
        };
    }
    declare!(
        QueueFilter,
        QueueRow,
        QueuePage,
        CitizenDto,
        LocationDto,
        AttachmentDto,
        EventDto,
        OutboxDto,
        RequestDetail,
        ActionDto,
        AdvisorySummary,
        AdvisoryDetail,
        Viewport,
        SourceHealth,
        SyncHealth,
        Bucket,
        Counts,
        AppInfo,
        RequestsChanged,
        AlertEvent,
        InBothLanguages,
        AlarmState,
        DecisionDto,
        NotificationHealth,
        AlertStatus,
        Region,
        PlaceChoice,
        StartupProblem,
        SignInForm,
        ExportDone,
        DeskSettings,
        HandoverItem,
        Handover,
        DuplicateCandidate,
        BulkOutcome,
        BulkRefusal,
        ClusterMembers,
        MapPackDto,
        RefusedPackDto,
        MapPacksDto,
        MessageDto,
        MessageMediaDto,
        MediaDto,
        TemplateDto,
        ThreadDto,
        ReminderArea,
        ErrorCode,
        CommandError,
    );
    out.trim_end().to_owned() + "\n"
}

#[test]
fn bindings_are_fresh() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/ipc/bindings.ts");
    let generated = render();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).expect("write bindings");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/ipc/bindings.ts is stale: run `cargo xtask bindings` and commit the result"
    );
}
