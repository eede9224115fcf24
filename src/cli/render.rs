//! `cpefleet render`: one device's answers to ACS requests, without a network.

use super::*;
use crate::render;

pub(super) fn render_cmd(a: RenderArgs) -> anyhow::Result<i32> {
    let template = load_template(&a.template)?;
    let input = RenderInput {
        template: &template,
        index: a.index,
        seed: a.seed,
        version: a.cwmp_version,
        now: now(),
        cr_url_base: &a.cr_url,
    };
    let out = match &a.request {
        Some(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
            render::render_response(&input, &bytes).map_err(|e| match e {
                // Located: path:line:column: message, like every other input file.
                render::RenderError::At { .. } => InputError(format!("{}:{e}", path.display())),
                e => InputError(format!("{}: {e}", path.display())),
            })?
        }
        None => {
            let events = render::parse_events(a.inform.as_deref().unwrap_or("1 BOOT"))
                .map_err(|e| InputError(format!("--inform: {e}")))?;
            render::render_inform(&input, events)
        }
    };
    println!("{}", String::from_utf8_lossy(&out));
    Ok(0)
}
