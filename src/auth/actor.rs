//! The party behind a request, with its roles and their scopes.
use entity::Role;

/// One role an account holds, with its scope (if the role is scoped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub station_id: Option<i64>,
    pub department_id: Option<i64>,
    /// Supervisors: a township scope; `None` means county-wide.
    pub township_id: Option<i64>,
}

impl Grant {
    /// A role with no scope (admins, county-wide supervisors, deputies, citizens).
    pub fn unscoped(role: Role) -> Self {
        Grant {
            role,
            station_id: None,
            department_id: None,
            township_id: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub account_id: i64,
    pub session_id: i64,
    pub login: String,
    pub display_name: String,
    pub deputy_id: Option<i64>,
    pub grants: Vec<Grant>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Actor {
    /// No credentials were presented.
    #[default]
    Anonymous,
    Account(Principal),
}

impl Actor {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Actor::Anonymous => None,
            Actor::Account(p) => Some(p),
        }
    }

    pub fn account_id(&self) -> Option<i64> {
        self.principal().map(|p| p.account_id)
    }

    fn grants(&self) -> &[Grant] {
        self.principal().map(|p| p.grants.as_slice()).unwrap_or(&[])
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants().iter().any(|g| g.role == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// A supervisor without a township scope.
    pub fn is_county_supervisor(&self) -> bool {
        self.grants()
            .iter()
            .any(|g| g.role == Role::Supervisor && g.township_id.is_none())
    }

    /// Townships a township-scoped supervisor covers.
    pub fn supervised_townships(&self) -> Vec<i64> {
        self.grants()
            .iter()
            .filter(|g| g.role == Role::Supervisor)
            .filter_map(|g| g.township_id)
            .collect()
    }

    pub fn supervises_township(&self, township_id: Option<i64>) -> bool {
        self.is_county_supervisor()
            || township_id.is_some_and(|t| self.supervised_townships().contains(&t))
    }

    pub fn staff_stations(&self) -> Vec<i64> {
        self.grants()
            .iter()
            .filter(|g| g.role == Role::StationStaff)
            .filter_map(|g| g.station_id)
            .collect()
    }

    pub fn is_staff_of(&self, station_id: i64) -> bool {
        self.staff_stations().contains(&station_id)
    }

    pub fn handler_departments(&self) -> Vec<i64> {
        self.grants()
            .iter()
            .filter(|g| g.role == Role::DepartmentHandler)
            .filter_map(|g| g.department_id)
            .collect()
    }

    pub fn handles_department(&self, department_id: i64) -> bool {
        self.handler_departments().contains(&department_id)
    }

    /// The deputy record of a signed-in deputy.
    pub fn deputy_id(&self) -> Option<i64> {
        if self.has_role(Role::Deputy) {
            self.principal().and_then(|p| p.deputy_id)
        } else {
            None
        }
    }
}

impl Actor {
    /// `Ok` when `allowed`; otherwise UNAUTHENTICATED for anonymous callers (signing in
    /// might help) and FORBIDDEN for signed-in ones (it would not).
    pub fn require(&self, allowed: bool) -> crate::error::AppResult<()> {
        match (allowed, self) {
            (true, _) => Ok(()),
            (false, Actor::Anonymous) => Err(crate::error::AppError::sign_in_required()),
            (false, Actor::Account(_)) => Err(crate::error::AppError::forbidden()),
        }
    }

    pub fn require_signed_in(&self) -> crate::error::AppResult<&Principal> {
        self.principal()
            .ok_or_else(crate::error::AppError::sign_in_required)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: Vec<Grant>) -> Actor {
        Actor::Account(Principal {
            account_id: 1,
            session_id: 1,
            login: "x".into(),
            display_name: "x".into(),
            deputy_id: Some(9),
            grants,
        })
    }

    fn grant(role: Role) -> Grant {
        Grant::unscoped(role)
    }

    #[test]
    fn scopes_are_respected() {
        let staff = actor(vec![Grant {
            station_id: Some(3),
            ..grant(Role::StationStaff)
        }]);
        assert!(staff.is_staff_of(3) && !staff.is_staff_of(4));
        assert!(!staff.is_admin());
        let township_supervisor = actor(vec![Grant {
            township_id: Some(2),
            ..grant(Role::Supervisor)
        }]);
        assert!(township_supervisor.supervises_township(Some(2)));
        assert!(!township_supervisor.supervises_township(Some(5)));
        assert!(!township_supervisor.is_county_supervisor());
        let county = actor(vec![grant(Role::Supervisor)]);
        assert!(county.supervises_township(Some(5)) && county.supervises_township(None));
        assert_eq!(Actor::Anonymous.deputy_id(), None);
        assert_eq!(
            actor(vec![grant(Role::Citizen)]).deputy_id(),
            None,
            "deputy link counts only with the role"
        );
        assert_eq!(actor(vec![grant(Role::Deputy)]).deputy_id(), Some(9));
    }
}
