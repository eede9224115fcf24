//! Tree discovery: which GetParameterNames and GetParameterValues come next.

use super::*;

/// Tree discovery: GPN `""` NextLevel=1 (the root object), NextLevel=1 below it down to
/// `next_level_depth` levels, NextLevel=0 for the objects below that (whole subtrees in one
/// answer), then GPV of every parameter found that the session does not know yet, in batches.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    pub(super) next_level_depth: u8,
    pub(super) gpv_batch: usize,
    pub(super) gpn_queue: VecDeque<(String, bool, u8)>,
    pub(super) to_read: Vec<String>,
    pub(super) read_pos: usize,
    pub(super) gpns: u32,
    pub(super) gpvs: u32,
}

impl Discovery {
    pub fn new(next_level_depth: u8, gpv_batch: usize) -> Self {
        let mut gpn_queue = VecDeque::new();
        gpn_queue.push_back((String::new(), true, 0));
        Discovery {
            next_level_depth,
            gpv_batch: gpv_batch.max(1),
            gpn_queue,
            to_read: Vec::new(),
            read_pos: 0,
            gpns: 0,
            gpvs: 0,
        }
    }

    pub(super) fn next(&mut self, known: &HashMap<String, Known>) -> Option<(AcsRequest, Origin)> {
        if let Some((path, next_level, level)) = self.gpn_queue.pop_front() {
            self.gpns += 1;
            let req = AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: path.clone(),
                next_level,
            });
            return Some((
                req,
                Origin::Gpn {
                    path,
                    next_level,
                    level,
                },
            ));
        }
        let mut batch = Vec::new();
        while batch.len() < self.gpv_batch {
            let Some(name) = self.to_read.get(self.read_pos) else {
                break;
            };
            self.read_pos += 1;
            if !known.contains_key(name) {
                batch.push(name.clone());
            }
        }
        if batch.is_empty() {
            return None;
        }
        self.gpvs += 1;
        Some((
            AcsRequest::GetParameterValues(GetParameterValues {
                parameter_names: batch,
            }),
            Origin::DiscoveryGpv,
        ))
    }

    pub(super) fn on_names(
        &mut self,
        path: &str,
        next_level: bool,
        level: u8,
        list: Vec<ParameterInfoStruct>,
        writable: &mut HashMap<String, bool>,
    ) -> u64 {
        let mut skipped = 0;
        for p in list {
            if writable.len() >= MAX_DISCOVERED {
                break;
            }
            // A name past the schema's string(256) is never echoed back in a request (nor
            // kept): a CPE reporting a 70,000-character name gets it skipped and counted.
            if !name_ok(&p.name) {
                skipped += 1;
                continue;
            }
            // Only names below the asked path: a CPE echoing the path itself (or answering
            // about something else) must not make the walk loop.
            if !p.name.starts_with(path) || p.name.len() <= path.len() {
                continue;
            }
            let is_object = p.name.ends_with('.');
            if writable.insert(p.name.clone(), p.writable).is_some() {
                continue;
            }
            if is_object {
                if next_level {
                    let child_level = level.saturating_add(1);
                    let nl = child_level <= self.next_level_depth;
                    self.gpn_queue.push_back((p.name, nl, child_level));
                }
            } else {
                self.to_read.push(p.name);
            }
        }
        skipped
    }
}
