use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::fields::{required_text, EmailAddress, Password};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The first account of a firm: firm settings, members, outbox, jobs.
    Owner,
    Consultant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Consultant => "consultant",
        }
    }

    pub fn from_db(value: &str) -> Role {
        if value == "owner" {
            Role::Owner
        } else {
            Role::Consultant
        }
    }
}

/// Who is asking: a logged-in member of a firm. Every firm-scoped query takes its `firm_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: i64,
    pub firm_id: i64,
    pub firm_name: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

impl Member {
    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }
}

/// What the sign-up form sends, as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignUpForm {
    pub firm_name: String,
    pub display_name: String,
    pub email: String,
    pub password: String,
}

/// A sign-up that passed every rule.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub firm_name: String,
    pub display_name: String,
    pub email: EmailAddress,
    pub password: Password,
}

impl SignUpForm {
    pub fn parse(&self) -> Result<SignUp, Vec<FieldError>> {
        let mut errors = Vec::new();
        let firm_name = required_text("firm_name", "firm name", &self.firm_name, 120)
            .map_err(|e| errors.push(e))
            .ok();
        let display_name = required_text("display_name", "your name", &self.display_name, 120)
            .map_err(|e| errors.push(e))
            .ok();
        let email = EmailAddress::parse("email", &self.email)
            .map_err(|e| errors.push(e))
            .ok();
        let password = Password::parse("password", &self.password)
            .map_err(|e| errors.push(e))
            .ok();
        match (firm_name, display_name, email, password) {
            (Some(firm_name), Some(display_name), Some(email), Some(password))
                if errors.is_empty() =>
            {
                Ok(SignUp {
                    firm_name,
                    display_name,
                    email,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

/// What the form to accept a member invitation sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JoinForm {
    pub display_name: String,
    pub password: String,
}

impl JoinForm {
    pub fn parse(&self) -> Result<(String, Password), Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = required_text("display_name", "your name", &self.display_name, 120)
            .map_err(|e| errors.push(e))
            .ok();
        let password = Password::parse("password", &self.password)
            .map_err(|e| errors.push(e))
            .ok();
        match (name, password) {
            (Some(n), Some(p)) => Ok((n, p)),
            _ => Err(errors),
        }
    }
}

/// An invitation for a consultant to join a firm, as the owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInvitation {
    pub member_invitation_id: i64,
    pub email: String,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub created_at: i64,
}

/// An invitation as the invited person sees it before accepting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationPreview {
    pub firm_name: String,
    pub email: String,
}

/// An API token as listed (the secret itself is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub api_token_id: i64,
    pub name: String,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
}
