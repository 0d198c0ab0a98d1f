package auth

// Audit actions written by this package (and by the administration console,
// which adds its own).
const (
	ActionLogin           = "login"
	ActionLockout         = "lockout"
	ActionEnrolmentStart  = "enrolment_start"
	ActionQuestionAnswer  = "question_answer"
	ActionQuestionSet     = "question_set"
	ActionEnrolmentCancel = "enrolment_cancel"
	ActionTOTPLinked      = "totp_linked"
	ActionTOTPReset       = "totp_reset"
	ActionLogout          = "logout"
	// ActionRecoveryCodesNew: the owner made a new set of recovery codes.
	ActionRecoveryCodesNew = "recovery_codes_new"
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)
