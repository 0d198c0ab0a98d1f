package web

import (
	"html/template"
	"text/template/parse"

	"sesame/internal/i18n"
)

// Every page is parsed once per language, and in each copy the actions
// that translate a fixed key with no data — {{.T "nav.menu"}},
// {{$.T "home.heading"}}, most of a page's words — are replaced by their
// translation, HTML-escaped, as plain text. Executing a page then no longer
// calls T through reflection, nor the escaper after it, for each of them:
// the template engine's per-action cost was most of a page's CPU
// (profile of BenchmarkHome). The output is the same as T would give at
// that place: T with no data is a catalog look-up (the translated-once
// messages), and html/template would escape its result as
// template.HTMLEscapeString does (the two differ only in writing + as
// &#43;, which means the same in HTML). Only whole actions of exactly that
// shape are replaced; T with data, in a pipeline, or on a computed key
// stays a call.

// pretranslate rewrites the trees of every template of t for lang.
func pretranslate(t *template.Template, cat *i18n.Catalog, lang i18n.Lang) {
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			pretranslateList(tt.Tree.Root, cat, lang)
		}
	}
}

func pretranslateList(l *parse.ListNode, cat *i18n.Catalog, lang i18n.Lang) {
	if l == nil {
		return
	}
	for i, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			if key, ok := fixedTranslation(n); ok {
				text := template.HTMLEscapeString(cat.T(lang, key, nil))
				l.Nodes[i] = &parse.TextNode{NodeType: parse.NodeText, Pos: n.Pos, Text: []byte(text)}
			}
		case *parse.IfNode:
			pretranslateList(n.List, cat, lang)
			pretranslateList(n.ElseList, cat, lang)
		case *parse.RangeNode:
			pretranslateList(n.List, cat, lang)
			pretranslateList(n.ElseList, cat, lang)
		case *parse.WithNode:
			pretranslateList(n.List, cat, lang)
			pretranslateList(n.ElseList, cat, lang)
		case *parse.ListNode:
			pretranslateList(n, cat, lang)
		}
	}
}

// fixedTranslation reports whether a is {{.T "key"}} or {{$.T "key"}}
// and nothing else, and its key.
func fixedTranslation(a *parse.ActionNode) (string, bool) {
	p := a.Pipe
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 2 {
		return "", false
	}
	args := p.Cmds[0].Args
	switch f := args[0].(type) {
	case *parse.FieldNode:
		if len(f.Ident) != 1 || f.Ident[0] != "T" {
			return "", false
		}
	case *parse.VariableNode:
		if len(f.Ident) != 2 || f.Ident[0] != "$" || f.Ident[1] != "T" {
			return "", false
		}
	default:
		return "", false
	}
	s, ok := args[1].(*parse.StringNode)
	if !ok {
		return "", false
	}
	return s.Text, true
}
