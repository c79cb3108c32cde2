//! The seed's identity fields (`senderType`, `adminId`): accepted for compatibility, but
//! identity comes from the session only, so a field that names anyone else is refused.

use chat_core::Principal;
use chat_core::ids::AdminId;

use crate::app::parse;
use crate::error::ApiResult;

/// The seed's `senderType` and `adminId` are accepted for compatibility but must match the
/// session: identity comes from the session only.
pub fn check_claimed_identity(
    principal: &Principal,
    sender_type: &str,
    admin_id: Option<&str>,
) -> ApiResult<()> {
    let expected = match principal {
        Principal::Visitor(_) => "customer",
        Principal::Admin { .. } => "admin",
        Principal::System | Principal::Anonymous => "system",
    };
    if sender_type != expected {
        let refused = "senderType does not match the session";
        return Err(chat_core::Error::PermissionDenied(refused).into());
    }
    check_claimed_admin(principal, admin_id)
}

/// The seed's `adminId` (on sends and the conversation list), when given, must be the
/// session's agent.
pub fn check_claimed_admin(principal: &Principal, admin_id: Option<&str>) -> ApiResult<()> {
    let Some(claimed) = admin_id else {
        return Ok(());
    };
    match principal {
        Principal::Admin { id, .. } if parse::<AdminId>(claimed)? == *id => Ok(()),
        _ => Err(chat_core::Error::PermissionDenied("adminId does not match the session").into()),
    }
}
