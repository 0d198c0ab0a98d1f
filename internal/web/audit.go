package web

import (
	"regexp"
	"strconv"
	"time"
)

// The audit log's action names and details are stable English codes in the
// store and the CSV (what an auditor greps for); the console's page shows
// them in the reader's language. A detail the catalog does not know (an
// older or a new one) is shown as written.

// auditAction is the translated name of an audit action.
func (b Base) auditAction(code string) string {
	if key := "audit.action." + code; b.cat.Has(key) {
		return b.T(key)
	}
	return code
}

// auditDetails are the details written as fixed sentences, by their key.
var auditDetails = map[string]string{
	"account locked":                                  "account_locked",
	"address throttled":                               "address_throttled",
	"an authenticator is already linked":              "already_linked",
	"for a sensitive action":                          "sensitive_action",
	"locked":                                          "locked",
	"disabled":                                        "disabled",
	"locked or disabled":                              "locked_or_disabled",
	"self-service, with the old device":               "self_old_device",
	"self-service, with a recovery code":              "self_recovery_code",
	"the old set revoked":                             "old_set_revoked",
	"helped, by office administrator":                 "helped_office_admin",
	"helped, by support":                              "helped_support",
	"helped, by support on the command line":          "helped_support_cli",
	"unknown account":                                 "unknown_account",
	"unknown account, or locked":                      "unknown_or_locked",
	"wrong answer":                                    "wrong_answer",
	"wrong password":                                  "wrong_password",
	"wrong or reused code":                            "wrong_code",
	"wrong or used recovery code":                     "wrong_recovery_code",
	"no authenticator linked":                         "not_linked",
	"no authenticator linked: sent to initialisation": "not_linked_sent",
	"three wrong codes":                               "three_wrong_codes",
	"cancelled by the person":                         "cancelled",
	"no such account in scope":                        "out_of_scope",
	"no such request in scope":                        "request_out_of_scope",
	"not an administrator":                            "not_admin",
	"own account":                                     "own_account",
	"malformed link":                                  "malformed_link",
	"unknown, used or replaced link":                  "unknown_link",
	"expired link":                                    "expired_link",
	"disabled account":                                "disabled_account",
	"internal account: its password is managed in the insurer's directory": "internal_account",
	"nobody to send it to":                      "nobody",
	"too many requests for this e-mail address": "too_many_for_mailbox",
	"too many requests for this identifier":     "too_many_for_identifier",
	"too many requests from this address":       "too_many_from_address",
}

// auditPatterns are the details with values in them: the pattern, its key,
// and the names of its submatches in the message.
var auditPatterns = []struct {
	re    *regexp.Regexp
	key   string
	names []string
}{
	{regexp.MustCompile(`^(\d+) consecutive failures, locked until (\S+)$`), "locked_until", []string{"N", "Until"}},
	{regexp.MustCompile(`^no e-mail sent: (.+)$`), "no_mail", []string{"Why"}},
	{regexp.MustCompile(`^no request: (.+)$`), "no_request", []string{"Why"}},
	{regexp.MustCompile(`^reset link e-mailed, valid (\S+)$`), "reset_link", []string{"Valid"}},
	{regexp.MustCompile(`^request (\d+) \((totp|question)\) e-mailed to (\d+) administrator\(s\)$`), "request_sent", []string{"ID", "Kind", "N"}},
	{regexp.MustCompile(`^(\d+) (totp|question) request\(s\) answered by (\w+)$`), "requests_answered", []string{"N", "Kind", "Action"}},
	{regexp.MustCompile(`^(\d+) other sessions ended$`), "other_sessions", []string{"N"}},
	{regexp.MustCompile(`^by e-mailed link; (\d+) sessions ended; code checked: (true|false)$`), "by_link", []string{"N", "Code"}},
	{regexp.MustCompile(`^link cancelled after (\d+) wrong codes$`), "link_cancelled", []string{"N"}},
	{regexp.MustCompile(`^type (client|group|tiers)(?:, role (\w+))?(, no initial password)?$`), "created", []string{"Type", "Role", "NoPassword"}},
}

// auditDetail is a detail in the page's language.
func (b Base) auditDetail(d string) string {
	if d == "" {
		return ""
	}
	if k, ok := auditDetails[d]; ok {
		return b.T("audit.detail." + k)
	}
	for _, p := range auditPatterns {
		m := p.re.FindStringSubmatch(d)
		if m == nil {
			continue
		}
		kv := []any{}
		for i, name := range p.names {
			v := m[i+1]
			switch name {
			case "Why":
				v = b.auditDetail(v)
			case "Until":
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					v = b.when(t)
				}
			case "Valid":
				if dur, err := time.ParseDuration(v); err == nil {
					v = strconv.Itoa(int(dur.Round(time.Minute)/time.Minute)) + " min"
				}
			case "Kind":
				v = b.T("admin.requests.kind." + v)
			case "Action":
				v = b.auditAction(v)
			case "Type":
				v = b.T("type." + v)
			case "Role":
				if v != "" {
					v = b.T("admin.role." + v)
				}
			case "Code":
				v = b.T("audit.detail.code_" + v)
			}
			kv = append(kv, name, v)
		}
		return b.T("audit.detail."+p.key, kv...)
	}
	return d
}
