package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

// auditFixture adds events about several accounts on three days.
func auditFixture(t *testing.T) *fixture {
	f := newFixture(t)
	ctx := context.Background()
	for day, who := range []string{"jan", "piet", "an", "sofie", "jan"} {
		a := f.acc[who]
		e := store.AuditEvent{Time: t0.Add(time.Duration(day) * 24 * time.Hour), ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID,
			Subject: a.Identifier, OfficeID: a.OfficeID, Action: "login", Outcome: "success", Addr: "192.0.2.1"}
		if err := f.st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func subjects(list []store.AuditEvent) string {
	var out []string
	for _, e := range list {
		out = append(out, strings.Split(e.Subject, "@")[0])
	}
	return strings.Join(out, ",")
}

func TestAuditScope(t *testing.T) {
	f := auditFixture(t)
	day := 24 * time.Hour
	tests := []struct {
		actor string
		af    func() AuditFilter
		want  string
		err   error
	}{
		{"marie", func() AuditFilter { return AuditFilter{} }, "jan,an,jan", nil},
		{"paul", func() AuditFilter { return AuditFilter{} }, "piet", nil},
		{"sofie", func() AuditFilter { return AuditFilter{} }, "jan,sofie,an,piet,jan", nil},
		{"cli", func() AuditFilter { return AuditFilter{} }, "jan,sofie,an,piet,jan", nil},
		{"marie", func() AuditFilter { return AuditFilter{AccountID: f.acc["jan"].ID} }, "jan,jan", nil},
		{"marie", func() AuditFilter { return AuditFilter{AccountID: f.acc["jan"].ID, From: t0.Add(day)} }, "jan", nil},
		{"sofie", func() AuditFilter { return AuditFilter{From: t0.Add(day), To: t0.Add(3 * day)} }, "an,piet", nil},
		{"sofie", func() AuditFilter { return AuditFilter{Limit: 2} }, "jan,sofie", nil},
		{"marie", func() AuditFilter { return AuditFilter{AccountID: f.acc["piet"].ID} }, "", ErrNotFound},
		{"marie", func() AuditFilter { return AuditFilter{AccountID: f.acc["sofie"].ID} }, "", ErrNotFound},
		{"marie", func() AuditFilter { return AuditFilter{AccountID: 424242} }, "", ErrNotFound},
		{"sofie", func() AuditFilter { return AuditFilter{From: t0.Add(day), To: t0} }, "", ErrInvalid},
		{"sofie", func() AuditFilter { return AuditFilter{Limit: 5000} }, "", ErrInvalid},
		{"sofie", func() AuditFilter { return AuditFilter{AccountID: -1} }, "", ErrInvalid},
		{"jan", func() AuditFilter { return AuditFilter{} }, "", ErrForbidden},
	}
	for _, tt := range tests {
		actor := Actor{Operator: "ops"}
		if tt.actor != "cli" {
			actor = f.actor(tt.actor)
		}
		af := tt.af()
		// Only the events of the fixture: the refusals below add their own.
		af.BeforeID = 6
		list, err := f.svc.Audit(context.Background(), actor, af)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: Audit(%+v): %v, want %v", tt.actor, af, err, tt.err)
			continue
		}
		if got := subjects(list); got != tt.want {
			t.Errorf("%s: Audit(%+v) = %s, want %s", tt.actor, af, got, tt.want)
		}
	}
}

// TestAuditSeesAdminActions: the actions and the refusals land in the log
// that the right people read.
func TestAuditSeesAdminActions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.ResetTOTP(ctx, Actor{Operator: "ops-anna", Addr: "cli"}, f.acc["jan"].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, f.actor("paul"), f.acc["jan"].ID); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	// marie (Dupont) sees the reset of jan by the operator; paul's
	// attempt on jan is in paul's office's log, without jan's name.
	list, err := f.svc.Audit(ctx, f.actor("marie"), AuditFilter{})
	if err != nil || len(list) != 1 || list[0].Actor != "ops-anna" || list[0].Subject != "jan@tiers.example" || list[0].Action != "totp_reset" {
		t.Errorf("marie's log: %+v, %v", list, err)
	}
	list, err = f.svc.Audit(ctx, f.actor("paul"), AuditFilter{})
	if err != nil || len(list) != 1 || list[0].Outcome != "denied" || list[0].Subject != "" || list[0].Action != ActionView {
		t.Errorf("paul's log: %+v, %v", list, err)
	}
}

func TestExportAuditCSV(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hostile := []string{"=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "plain, with \"quotes\"\nand a line"}
	for i, s := range hostile {
		if err := f.st.AppendAudit(ctx, store.AuditEvent{Time: t0.Add(time.Duration(i) * time.Second), Actor: s, Subject: s,
			Action: "login", Outcome: "failure", Addr: "::1", Detail: s}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.svc.ExportAuditCSV(ctx, f.actor("sofie"), AuditFilter{}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(hostile)+1 || strings.Join(rows[0], ",") != strings.Join(AuditCSVHeader, ",") {
		t.Fatalf("rows: %q", rows)
	}
	for i, row := range rows[1:] {
		in := hostile[len(hostile)-1-i] // newest first
		want := in
		if strings.ContainsAny(in[:1], "=+-@\t") {
			want = "'" + in
		}
		for _, col := range []int{3, 5, 10} {
			if row[col] != want {
				t.Errorf("row %d column %s = %q, want %q", i, AuditCSVHeader[col], row[col], want)
			}
		}
		if row[1] != t0.Add(time.Duration(len(hostile)-1-i)*time.Second).Format(time.RFC3339) {
			t.Errorf("time %q", row[1])
		}
	}

	// An office administrator's export holds only their office.
	buf.Reset()
	if _, err := f.svc.Unlock(ctx, f.actor("sofie"), f.acc["jan"].ID); !errors.Is(err, ErrUnchanged) {
		t.Fatal(err)
	}
	f.prepare(f.acc["jan"].ID, Unlock)
	if _, err := f.svc.Unlock(ctx, f.actor("sofie"), f.acc["jan"].ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ExportAuditCSV(ctx, f.actor("marie"), AuditFilter{}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, _ = csv.NewReader(&buf).ReadAll()
	if len(rows) != 2 || rows[1][7] != ActionUnlock {
		t.Errorf("marie's export: %q", rows)
	}
	if err := f.svc.ExportAuditCSV(ctx, f.actor("marie"), AuditFilter{AccountID: f.acc["piet"].ID}, &buf); !errors.Is(err, ErrNotFound) {
		t.Errorf("export of another office's account: %v", err)
	}
}

// TestExportAuditCSVPages: an export longer than one store page is whole.
func TestExportAuditCSVPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 2345
	err := f.st.InTx(ctx, func(tx store.Store) error {
		for i := range n {
			if err := tx.AppendAudit(ctx, store.AuditEvent{Time: t0.Add(time.Duration(i) * time.Second), Action: "login", Outcome: "success"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.svc.ExportAuditCSV(ctx, Actor{Operator: "ops"}, AuditFilter{}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	if len(rows) != n+1 || rows[1][0] != "2345" || rows[n][0] != "1" {
		t.Errorf("%d rows, first id %s, last id %s; want %d, 2345, 1", len(rows)-1, rows[1][0], rows[len(rows)-1][0], n)
	}
}
