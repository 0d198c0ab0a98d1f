package admin

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"sesame/internal/store"
)

// AuditFilter selects audit events for the console, newest first.
type AuditFilter struct {
	AccountID int64     // only events about this account; 0: any in scope
	From, To  time.Time // To is exclusive; zero: unbounded
	BeforeID  int64     // paging: events older than this id; 0: from the newest
	Limit     int       // 1 to 1000; 0 means 100
}

// MaxExport bounds the rows of one CSV export; a longer period must be
// exported in parts.
const MaxExport = 100_000

// auditFilter checks f for actor and returns the store's filter. An office
// administrator reads only their office's events; asking for an account
// outside the scope is ErrNotFound, like everywhere else.
func (s *Service) auditFilter(ctx context.Context, actor Actor, f AuditFilter) (store.AuditFilter, error) {
	if err := s.check(ctx, actor, ActionAudit, f.AccountID); err != nil {
		return store.AuditFilter{}, err
	}
	if f.AccountID < 0 || f.BeforeID < 0 || f.Limit < 0 || f.Limit > 1000 {
		return store.AuditFilter{}, &InvalidError{Key: "admin.error.filter"}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return store.AuditFilter{}, &InvalidError{Key: "admin.error.dates"}
	}
	sf := store.AuditFilter{SubjectID: f.AccountID, From: f.From, To: f.To, BeforeID: f.BeforeID, Limit: f.Limit}
	if actor.level() == office {
		sf.OfficeID = actor.Account.OfficeID
	}
	if f.AccountID != 0 {
		a, err := s.Store.GetAccount(ctx, f.AccountID)
		if err != nil || !actor.inScope(a) {
			s.deny(ctx, actor, ActionAudit, f.AccountID, "no such account in scope")
			return store.AuditFilter{}, ErrNotFound
		}
	}
	return sf, nil
}

// Audit returns one page of the audit events the actor may read. Errors:
// ErrForbidden, ErrNotFound (AccountID out of scope), ErrInvalid.
func (s *Service) Audit(ctx context.Context, actor Actor, f AuditFilter) ([]store.AuditEvent, error) {
	sf, err := s.auditFilter(ctx, actor, f)
	if err != nil {
		return nil, err
	}
	return s.Store.ListAudit(ctx, sf)
}

// AuditCSVHeader is the first row of ExportAuditCSV.
var AuditCSVHeader = []string{"id", "time", "actor_id", "actor", "subject_id", "subject", "office_id", "action", "outcome", "addr", "detail"}

// ExportAuditCSV writes the events matching f (ignoring its paging) as CSV,
// newest first, at most MaxExport rows. Cells that a spreadsheet would run
// as a formula are defused (see csvCell). Errors as Audit, and w's errors.
func (s *Service) ExportAuditCSV(ctx context.Context, actor Actor, f AuditFilter, w io.Writer) error {
	sf, err := s.auditFilter(ctx, actor, f)
	if err != nil {
		return err
	}
	sf.BeforeID, sf.Limit = 0, 1000
	cw := csv.NewWriter(w)
	if err := cw.Write(AuditCSVHeader); err != nil {
		return err
	}
	for n := 0; n < MaxExport; {
		list, err := s.Store.ListAudit(ctx, sf)
		if err != nil {
			return err
		}
		for _, e := range list {
			if n == MaxExport {
				break
			}
			row := []string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339), strconv.FormatInt(e.ActorID, 10),
				csvCell(e.Actor), strconv.FormatInt(e.SubjectID, 10), csvCell(e.Subject), strconv.FormatInt(e.OfficeID, 10),
				csvCell(e.Action), csvCell(e.Outcome), csvCell(e.Addr), csvCell(e.Detail)}
			if err := cw.Write(row); err != nil {
				return err
			}
			n++
		}
		if len(list) < sf.Limit {
			break
		}
		sf.BeforeID = list[len(list)-1].ID
	}
	cw.Flush()
	return cw.Error()
}

// csvCell defuses CSV injection (OWASP): a cell starting with = + - @, a
// tab or a carriage return is read as a formula by spreadsheets, so it gets
// a leading apostrophe, which they show as text. Identifiers and details
// come from what people typed, so they can start with anything.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
