//! Activity photos (履职活动照片): evidence for a deputy's duty archive. Activities
//! themselves are public records, their photos (people at a reception, at home) are
//! not: they are for the people the activity concerns — the one who logged it, its
//! deputies, the staff of its stations and of its deputies' stations, the supervisors
//! of those townships (county supervisors and admins everywhere). Every reader of a
//! participant's `Deputy.archive` is one of them.
use std::collections::HashMap;

use base64::Engine as _;
use entity::{activity, activity_participant, activity_station, attachment, deputy, station};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::{attachments, org, Ctx};
use crate::storage::Variant;

/// Who an activity's photos are for (see the module).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readers {
    pub recorded_by: Option<i64>,
    pub deputies: Vec<i64>,
    pub stations: Vec<i64>,
    pub townships: Vec<i64>,
}

impl Readers {
    pub fn allows(&self, actor: &Actor) -> bool {
        actor.is_admin()
            || actor.is_county_supervisor()
            || (self.recorded_by.is_some() && self.recorded_by == actor.account_id())
            || actor
                .deputy_id()
                .is_some_and(|d| self.deputies.contains(&d))
            || self.stations.iter().any(|s| actor.is_staff_of(*s))
            || self
                .townships
                .iter()
                .any(|t| actor.supervises_township(Some(*t)))
    }
}

/// The readers of each activity's photos, in a few statements for all of them.
pub async fn access<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<HashMap<i64, Readers>> {
    let mut readers: HashMap<i64, Readers> = activity::Entity::find()
        .filter(activity::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.id,
                Readers {
                    recorded_by: a.recorded_by,
                    ..Readers::default()
                },
            )
        })
        .collect();
    add_participants(db, ids, &mut readers).await?;
    let held = activity_station::Entity::find()
        .filter(activity_station::Column::ActivityId.is_in(ids.iter().copied()))
        .find_also_related(station::Entity)
        .all(db)
        .await?;
    for (link, found) in held {
        let Some(r) = readers.get_mut(&link.activity_id) else {
            continue;
        };
        r.stations.push(link.station_id);
        r.townships.extend(found.map(|s| s.township_id));
    }
    Ok(readers)
}

/// The deputies of each activity, their townships and the stations they serve at.
async fn add_participants<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    readers: &mut HashMap<i64, Readers>,
) -> AppResult<()> {
    let participants = activity_participant::Entity::find()
        .filter(activity_participant::Column::ActivityId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let deputy_ids: Vec<i64> = participants.iter().map(|p| p.deputy_id).collect();
    let deputies: HashMap<i64, deputy::Model> = deputy::Entity::find()
        .filter(deputy::Column::Id.is_in(deputy_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let serving = org::stations_by_deputy(db, &deputy_ids).await?;
    for p in &participants {
        let Some(r) = readers.get_mut(&p.activity_id) else {
            continue;
        };
        r.deputies.push(p.deputy_id);
        r.townships
            .extend(deputies.get(&p.deputy_id).and_then(|d| d.township_id));
        for s in serving.get(&p.deputy_id).into_iter().flatten() {
            r.stations.push(s.id);
            r.townships.push(s.township_id);
        }
    }
    Ok(())
}

/// Each activity's photos with who may see them (DataLoader batch): the resolver
/// shows them to those [`Readers::allows`].
pub async fn of_activities<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, (Readers, Vec<attachment::Model>)>> {
    let photos = attachments::of_activities(db, ids).await?;
    if photos.is_empty() {
        return Ok(HashMap::new());
    }
    let with_photos: Vec<i64> = photos.keys().copied().collect();
    let mut readers = access(db, &with_photos).await?;
    Ok(photos
        .into_iter()
        .map(|(id, list)| (id, (readers.remove(&id).unwrap_or_default(), list)))
        .collect())
}

/// The most photos the printed archive embeds; the rest are left out (the page
/// prints thumbnails inline, so it stays a few megabytes at most).
pub const MAX_PRINTED: usize = 120;

/// The thumbnails of the activities' photos as `data:` URLs, for the printed
/// archive (a page printed from a browser sends no bearer token for its images, so
/// they travel inside it). Only for readers of the archive, who read the photos too.
pub async fn printed_thumbnails(
    ctx: &Ctx<'_>,
    activity_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<String>>> {
    let photos = attachments::of_activities(ctx.db, activity_ids).await?;
    let mut printed: HashMap<i64, Vec<String>> = HashMap::new();
    let mut count = 0;
    for id in activity_ids {
        for photo in photos
            .get(id)
            .into_iter()
            .flatten()
            .filter(|p| p.has_thumbnail)
        {
            if count == MAX_PRINTED {
                return Ok(printed);
            }
            let Some(bytes) = ctx.storage.get(&photo.sha256, Variant::Thumbnail).await? else {
                continue;
            };
            let kind = if photo.content_type == "image/png" {
                "image/png"
            } else {
                "image/jpeg"
            };
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            printed
                .entry(*id)
                .or_default()
                .push(format!("data:{kind};base64,{data}"));
            count += 1;
        }
    }
    Ok(printed)
}
