//! Behaviour of whole templates through the public API.

use pocket_value::Value;

use crate::{Template, is_template};

fn data(json: &str) -> Value {
    Value::from_json(json).expect("test data is JSON")
}

/// Renders `source` against the JSON `json`.
fn render(source: &str, json: &str) -> String {
    Template::parse(source)
        .unwrap_or_else(|e| panic!("{source:?} does not parse: {e}"))
        .render(&data(json))
        .unwrap_or_else(|e| panic!("{source:?} does not render: {e}"))
}

fn render_error(source: &str, json: &str) -> String {
    Template::parse(source)
        .unwrap_or_else(|e| panic!("{source:?} does not parse: {e}"))
        .render(&data(json))
        .expect_err("a render error")
        .to_string()
}

fn parse_error(source: &str) -> String {
    Template::parse(source).expect_err("a parse error").to_string()
}

fn evaluate(source: &str, json: &str) -> Value {
    Template::parse(source).unwrap().evaluate(&data(json)).unwrap()
}

/// `{"input": {"input": ... "leaf" ...}}`, `depth` levels deep.
fn nest(depth: usize) -> Value {
    let mut v = Value::from("leaf");
    for _ in 0..depth {
        v = Value::object([("input", v)]);
    }
    v
}

// Text, fields and printing.

#[test]
fn plain_text_renders_unchanged() {
    assert_eq!(render("hello, world", "{}"), "hello, world");
}

#[test]
fn field_actions_print_the_field() {
    assert_eq!(render("user:{{.user_id}}", r#"{"user_id": 42}"#), "user:42");
}

#[test]
fn field_chains_follow_nested_objects() {
    assert_eq!(render("{{.a.b.c}}", r#"{"a": {"b": {"c": "deep"}}}"#), "deep");
}

#[test]
fn dot_prints_objects_and_arrays_as_compact_json() {
    assert_eq!(render("{{.}}", r#"{"a": [1, "x", null]}"#), r#"{"a":[1,"x",null]}"#);
}

#[test]
fn missing_fields_print_no_value() {
    assert_eq!(render("[{{.missing}}]", "{}"), "[<no value>]");
}

#[test]
fn fields_of_null_are_null() {
    assert_eq!(render("{{.missing.deeper.still}}", "{}"), "<no value>");
}

#[test]
fn fields_of_non_objects_are_errors() {
    assert_eq!(
        render_error("{{.a.b}}", r#"{"a": "text"}"#),
        "line 1, column 3: can't evaluate field b in type string"
    );
}

#[test]
fn numbers_print_as_go_prints_them() {
    let json = r#"{"i": 7, "f": 2.5, "whole": 3.0, "big": 1e21, "tiny": 1e-7, "neg": -0.5}"#;
    assert_eq!(
        render("{{.i}} {{.f}} {{.whole}} {{.big}} {{.tiny}} {{.neg}}", json),
        "7 2.5 3 1e+21 1e-07 -0.5"
    );
}

#[test]
fn booleans_print_as_words() {
    assert_eq!(render("{{.t}} {{.f}}", r#"{"t": true, "f": false}"#), "true false");
}

#[test]
fn comments_print_nothing() {
    assert_eq!(render("a{{/* a comment\nover lines */}}b", "{}"), "ab");
}

#[test]
fn trim_markers_remove_adjacent_whitespace() {
    assert_eq!(render("a  \n {{- .x -}} \n\t b", r#"{"x": 1}"#), "a1b");
}

#[test]
fn trim_markers_apply_to_comments() {
    assert_eq!(render("a {{- /* c */ -}} b", "{}"), "ab");
}

#[test]
fn minus_directly_after_the_delimiter_is_a_negative_number() {
    assert_eq!(render("x {{-3}}", "{}"), "x -3");
}

#[test]
fn literals_follow_go_syntax() {
    assert_eq!(
        render(r#"{{print "a\tb\u00e9" `raw\n` 'a' 0x10 1.5 1e3 true nil}}"#, "{}"),
        "a\tbéraw\\n97 16 1.5 1000 true <nil>"
    );
}

// Pipelines and variables.

#[test]
fn pipes_pass_the_value_as_the_last_argument() {
    assert_eq!(render(r#"{{.n | printf "%03d"}}"#, r#"{"n": 7}"#), "007");
}

#[test]
fn parenthesised_pipelines_are_arguments() {
    assert_eq!(render("{{len (index .a 1)}}", r#"{"a": ["x", "abc"]}"#), "3");
}

#[test]
fn fields_chain_on_parenthesised_pipelines() {
    assert_eq!(
        render(
            "{{(index .users 1).name}}",
            r#"{"users": [{"name": "a"}, {"name": "b"}]}"#
        ),
        "b"
    );
}

#[test]
fn dollar_is_the_data_everywhere() {
    assert_eq!(render("{{with .a}}{{$.top}}{{end}}", r#"{"a": 1, "top": "T"}"#), "T");
}

#[test]
fn declared_variables_print_nothing_and_hold_values() {
    assert_eq!(render("{{$x := .a}}[{{$x}}]", r#"{"a": 5}"#), "[5]");
}

#[test]
fn variables_have_fields() {
    assert_eq!(
        render("{{$u := .user}}{{$u.name}}", r#"{"user": {"name": "ann"}}"#),
        "ann"
    );
}

#[test]
fn assignment_updates_the_outer_variable() {
    assert_eq!(render("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "{}"), "2");
}

#[test]
fn declarations_inside_a_block_shadow_until_its_end() {
    assert_eq!(
        render("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "{}"),
        "21"
    );
}

#[test]
fn variables_declared_in_a_condition_reach_the_else_branch() {
    assert_eq!(render("{{if $v := .a}}yes{{else}}{{$v}}{{end}}", r#"{"a": 0}"#), "0");
}

// if and with.

#[test]
fn if_chooses_a_branch_by_truthiness() {
    let t = Template::parse("{{if gt .score 0.8}}high{{else}}low{{end}}").unwrap();
    assert_eq!(t.render(&data(r#"{"score": 0.9}"#)).unwrap(), "high");
    assert_eq!(t.render(&data(r#"{"score": 0.5}"#)).unwrap(), "low");
}

#[test]
fn empty_values_are_false() {
    let t = Template::parse("{{if .v}}T{{else}}F{{end}}").unwrap();
    for falsy in ["0", "0.0", "\"\"", "[]", "{}", "null", "false"] {
        assert_eq!(
            t.render(&data(&format!(r#"{{"v": {falsy}}}"#))).unwrap(),
            "F",
            "{falsy}"
        );
    }
    for truthy in ["1", "0.1", "\"0\"", "[0]", "{\"a\":0}", "true"] {
        assert_eq!(
            t.render(&data(&format!(r#"{{"v": {truthy}}}"#))).unwrap(),
            "T",
            "{truthy}"
        );
    }
}

#[test]
fn else_if_chains_pick_the_first_true_branch() {
    let t = Template::parse("{{if .a}}a{{else if .b}}b{{else if .c}}c{{else}}none{{end}}").unwrap();
    assert_eq!(t.render(&data(r#"{"b": 1, "c": 1}"#)).unwrap(), "b");
    assert_eq!(t.render(&data(r#"{"c": 1}"#)).unwrap(), "c");
    assert_eq!(t.render(&data("{}")).unwrap(), "none");
}

#[test]
fn with_sets_dot_to_its_value() {
    assert_eq!(
        render("{{with .user}}{{.name}}{{end}}", r#"{"user": {"name": "bo"}}"#),
        "bo"
    );
}

#[test]
fn with_runs_else_when_its_value_is_empty() {
    assert_eq!(render("{{with .user}}{{.name}}{{else}}anon{{end}}", "{}"), "anon");
}

#[test]
fn else_with_tries_another_value() {
    assert_eq!(
        render("{{with .a}}a={{.}}{{else with .b}}b={{.}}{{end}}", r#"{"b": 2}"#),
        "b=2"
    );
}

// range.

#[test]
fn range_over_an_array_sets_dot_to_each_element() {
    assert_eq!(render("{{range .}}<{{.}}>{{end}}", "[1, 2, 3]"), "<1><2><3>");
}

#[test]
fn range_over_an_array_binds_index_and_element() {
    assert_eq!(
        render("{{range $i, $v := .}}{{$i}}={{$v}};{{end}}", r#"["a", "b"]"#),
        "0=a;1=b;"
    );
}

#[test]
fn range_with_one_variable_binds_the_element() {
    assert_eq!(render("{{range $v := .}}{{$v}}{{end}}", r#"["a", "b"]"#), "ab");
}

#[test]
fn range_over_object_visits_keys_in_sorted_order() {
    assert_eq!(
        render(
            "{{range $k, $v := .items}}{{$k}}={{$v}} {{end}}",
            r#"{"items": {"b": 2, "c": 3, "a": 1}}"#
        ),
        "a=1 b=2 c=3 "
    );
}

#[test]
fn range_over_an_integer_counts_from_zero() {
    assert_eq!(render("{{range 3}}{{.}}{{end}}", "{}"), "012");
    assert_eq!(render("{{range $i := .n}}{{$i}}{{end}}", r#"{"n": 2.0}"#), "01");
}

#[test]
fn range_over_nothing_runs_else() {
    let t = Template::parse("{{range .v}}x{{else}}empty{{end}}").unwrap();
    for nothing in ["[]", "{}", "null", "0"] {
        assert_eq!(
            t.render(&data(&format!(r#"{{"v": {nothing}}}"#))).unwrap(),
            "empty",
            "{nothing}"
        );
    }
    assert_eq!(t.render(&data("{}")).unwrap(), "empty");
}

#[test]
fn range_assigning_existing_variables_keeps_the_last_pair() {
    assert_eq!(
        render(
            "{{$i := 0}}{{$v := 0}}{{range $i, $v = .}}{{end}}{{$i}}:{{$v}}",
            r#"["a", "b"]"#
        ),
        "1:b"
    );
}

#[test]
fn break_stops_a_range() {
    assert_eq!(
        render("{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", "[1, 2, 3, 4]"),
        "12"
    );
}

#[test]
fn continue_skips_to_the_next_element() {
    assert_eq!(
        render("{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", "[1, 2, 3]"),
        "13"
    );
}

#[test]
fn break_in_an_inner_range_else_stops_the_outer_range() {
    assert_eq!(
        render(
            "{{range .}}{{range .}}{{.}}{{else}}{{break}}{{end}};{{end}}",
            "[[1], [], [2]]"
        ),
        "1;"
    );
}

#[test]
fn variables_in_a_range_body_are_fresh_each_iteration() {
    assert_eq!(render("{{range .}}{{$x := .}}{{$x}}{{end}}", "[1, 2]"), "12");
}

#[test]
fn ranging_over_a_string_is_an_error() {
    assert_eq!(
        render_error("{{range .}}{{end}}", r#""abc""#),
        "line 1, column 9: can't range over string"
    );
}

#[test]
fn ranging_over_a_fractional_number_is_an_error() {
    assert_eq!(
        render_error("{{range .}}{{end}}", "2.5"),
        "line 1, column 9: can't range over non-integer number 2.5"
    );
}

#[test]
fn ranging_over_an_integer_with_two_variables_is_an_error() {
    assert_eq!(
        render_error("{{range $i, $v := 3}}{{end}}", "{}"),
        "line 1, column 9: can't use 3 to iterate over more than one variable"
    );
}

// Functions.

#[test]
fn and_and_or_return_the_deciding_value() {
    assert_eq!(
        render(
            r#"{{or .missing "fallback"}}|{{and 1 0 2}}|{{and 1 2}}|{{or 0 ""}}"#,
            "{}"
        ),
        "fallback|0|2|"
    );
}

#[test]
fn and_and_or_short_circuit() {
    assert_eq!(
        render(
            "{{and false (index .list 9)}} {{or true (index .list 9)}}",
            r#"{"list": []}"#
        ),
        "false true"
    );
}

#[test]
fn and_takes_the_piped_value_last() {
    assert_eq!(render("{{1 | and 2}} {{0 | or 3}}", "{}"), "1 3");
}

#[test]
fn not_negates_truthiness() {
    assert_eq!(render("{{not .done}} {{not 1}}", r#"{"done": false}"#), "true false");
}

#[test]
fn len_counts_items() {
    assert_eq!(
        render(
            "{{len .items}} {{len .name}} {{len .map}}",
            r#"{"items": [1, 2], "name": "héllo", "map": {"a": 1}}"#
        ),
        "2 6 1"
    );
}

#[test]
fn index_reaches_into_arrays_and_objects() {
    assert_eq!(render(r#"{{index .m "a-b" 1}}"#, r#"{"m": {"a-b": [0, "x"]}}"#), "x");
}

#[test]
fn index_out_of_range_is_an_error() {
    assert_eq!(
        render_error("{{index .a 5}}", r#"{"a": [1]}"#),
        "line 1, column 3: error calling index: index out of range: 5"
    );
}

#[test]
fn slice_cuts_arrays_and_strings() {
    assert_eq!(
        render("{{slice .a 1}} {{slice .s 1 3}}", r#"{"a": [1, 2, 3], "s": "hello"}"#),
        "[2,3] el"
    );
}

#[test]
fn eq_is_true_when_any_later_argument_matches() {
    assert_eq!(
        render(r#"{{eq .status "active" "pending"}}"#, r#"{"status": "pending"}"#),
        "true"
    );
}

#[test]
fn eq_compares_numbers_by_value_and_other_kinds_as_unequal() {
    assert_eq!(
        render(r#"{{eq .n 1}} {{eq .n "1"}} {{ne .n 2}}"#, r#"{"n": 1.0}"#),
        "true false true"
    );
}

#[test]
fn comparisons_of_mixed_types_are_errors() {
    assert_eq!(
        render_error(r#"{{lt .a 1}}"#, r#"{"a": "x"}"#),
        "line 1, column 3: error calling lt: incompatible types for comparison: string and number"
    );
}

#[test]
fn wrong_argument_counts_are_errors() {
    assert_eq!(
        render_error("{{eq 1}}", "{}"),
        "line 1, column 3: wrong number of args for eq: want at least 2 got 1"
    );
    assert_eq!(
        render_error("{{ printf }}", "{}"),
        "line 1, column 4: wrong number of args for printf: want at least 1 got 0"
    );
}

#[test]
fn printf_formats_with_go_verbs() {
    assert_eq!(
        render(
            r#"{{printf "%.2f|%5s|%-4d|%v|%q" .price .s .n .list .s}}"#,
            r#"{"price": 3.14159, "s": "ab", "n": 7, "list": [1]}"#
        ),
        "3.14|   ab|7   |[1]|\"ab\""
    );
}

#[test]
fn printf_reports_bad_arguments_inline() {
    assert_eq!(
        render(r#"{{printf "%d %d" "hi"}}"#, "{}"),
        "%!d(string=hi) %!d(MISSING)"
    );
}

#[test]
fn print_spaces_operands_that_are_not_strings() {
    assert_eq!(render(r#"{{print 1 2 "a" "b" 3}}"#, "{}"), "1 2ab3");
}

#[test]
fn println_spaces_all_operands_and_ends_the_line() {
    assert_eq!(render(r#"{{println "a" 1}}"#, "{}"), "a 1\n");
}

#[test]
fn escapers_escape_for_html_js_and_urls() {
    assert_eq!(
        render(r#"{{html .s}} {{js .s}} {{urlquery .s}}"#, r#"{"s": "<a&'b'>"}"#),
        "&lt;a&amp;&#39;b&#39;&gt; \\u003Ca\\u0026\\'b\\'\\u003E %3Ca%26%27b%27%3E"
    );
}

#[test]
fn extension_functions_handle_strings_and_json() {
    let json = r#"{"s": "  Hello World  ", "o": {"a": [1]}}"#;
    assert_eq!(
        render(
            r#"{{trim .s | lower}}|{{upper "x"}}|{{contains .s "World"}}|{{replace "a-b" "-" "+"}}|{{toJson .o}}|{{join (split "a,b" ",") "+"}}"#,
            json
        ),
        r#"hello world|X|true|a+b|{"a":[1]}|a+b"#
    );
}

#[test]
fn unknown_functions_fail_to_parse_with_their_position() {
    assert_eq!(
        parse_error("hello {{ . | foo }}"),
        "line 1, column 14: function \"foo\" not defined"
    );
}

#[test]
fn parse_errors_count_lines() {
    assert_eq!(
        parse_error("line one\n{{if .x}}\n{{end}}{{end}}"),
        "line 3, column 10: unexpected {{end}}"
    );
}

#[test]
fn fields_given_arguments_are_errors() {
    assert_eq!(
        render_error("{{.a 1}}", r#"{"a": 1}"#),
        "line 1, column 3: a is not a method but has arguments"
    );
}

#[test]
fn non_functions_given_arguments_are_errors() {
    assert_eq!(
        render_error("{{$ 1}}", "{}"),
        "line 1, column 3: can't give argument to non-function $"
    );
}

#[test]
fn nil_is_not_a_command() {
    assert_eq!(render_error("{{nil}}", "{}"), "line 1, column 3: nil is not a command");
}

// evaluate and friends.

#[test]
fn evaluate_returns_a_single_actions_value_itself() {
    assert_eq!(evaluate("{{.items}}", r#"{"items": [1, 2]}"#), data("[1, 2]"));
}

#[test]
fn evaluate_returns_numbers_from_functions() {
    assert_eq!(evaluate("{{len .x}}", r#"{"x": "abc"}"#), Value::from(3));
}

#[test]
fn evaluate_returns_null_for_a_missing_field() {
    assert_eq!(evaluate("{{.missing}}", "{}"), Value::Null);
}

#[test]
fn evaluate_ignores_whitespace_around_a_single_action() {
    assert_eq!(evaluate("  {{- .a }}\n", r#"{"a": true}"#), Value::Bool(true));
}

#[test]
fn evaluate_renders_mixed_text_to_a_string() {
    assert_eq!(evaluate("id-{{.a}}", r#"{"a": 1}"#), Value::from("id-1"));
}

#[test]
fn evaluate_shares_values_instead_of_copying_them() {
    let input = data(r#"{"items": [1, 2]}"#);
    let out = Template::parse("{{.items}}").unwrap().evaluate(&input).unwrap();
    let original = input.get("items").and_then(Value::as_array).unwrap();
    assert!(out.as_array().unwrap().ptr_eq(original));
}

#[test]
fn single_actions_are_recognised() {
    let single = |s: &str| Template::parse(s).unwrap().is_single_action();
    assert!(single("{{.a}}"));
    assert!(single(" {{ len .a }} "));
    assert!(single("{{/* note */}}{{.a}}"));
    assert!(!single("x{{.a}}"));
    assert!(!single("{{.a}}{{.b}}"));
    assert!(!single("{{$x := 1}}"));
    assert!(!single("{{if .a}}1{{end}}"));
    assert!(!single("plain"));
}

#[test]
fn templates_keep_their_source() {
    assert_eq!(Template::parse("a{{.b}}").unwrap().source(), "a{{.b}}");
}

#[test]
fn is_template_looks_for_open_delimiters() {
    assert!(is_template("a {{.b}}"));
    assert!(!is_template("a } { b"));
}

#[test]
fn templates_are_shareable_between_threads() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Template>();
}

// Robustness.

#[test]
fn garbage_templates_fail_cleanly() {
    let garbage = [
        "{{",
        "{{.a.}}",
        "{{end}}",
        "{{if}}",
        "{{range}}",
        "}}{{",
        "{{{{",
        "{{.a b}}",
        "{{(}}",
        "{{)}}",
        "{{|}}",
        "{{ | .a}}",
        "{{$}}{{$ := 1}}",
        "{{:=}}",
        "{{= 1}}",
        "{{'}}",
        "{{''}}",
        "{{\"}}",
        "{{`}}",
        "{{/*}}",
        "{{- -}}",
        "{{.a | | .b}}",
        "{{range $i, }}{{end}}",
        "{{with}}{{end}}",
        "{{else if}}",
        "{{if 1}}{{else}}{{else if 2}}{{end}}",
        "{{1 2}}",
        "{{.a.b..c}}",
        "{{$x.}}",
        "{{0x}}",
        "{{1e}}",
        "{{.é}}",
        "{{\u{0}}}",
        "{{-}}",
        "{{printf \"%",
        "{{index}}",
        "{{slice}}",
        "{{not}}",
        "{{len}}",
        "{{and}}",
    ];
    let input = data(r#"{"a": {"b": [1, "x"]}, "s": "str"}"#);
    for source in garbage {
        if let Ok(t) = Template::parse(source) {
            let _ = t.render(&input);
            let _ = t.evaluate(&input);
        }
    }
}

#[test]
fn hostile_printf_formats_never_panic() {
    let t = Template::parse("{{printf .f 1 2.5 \"é\" .a nil}}").unwrap();
    for f in [
        "%",
        "%!",
        "%[",
        "%[0]d",
        "%[9]d",
        "%[1",
        "%*",
        "%.*",
        "%-*d",
        "%9999999d",
        "%.9999999f",
        "%é",
        "%#+- 0x",
        "%[2]*[1]d",
        "%U%c%q",
    ] {
        let input = Value::object([("f", Value::from(f)), ("a", Value::array([Value::Null]))]);
        assert!(t.render(&input).is_ok(), "{f}");
    }
}

#[test]
fn random_token_soup_never_panics() {
    const PIECES: &[&str] = &[
        "{{",
        "}}",
        "{{- ",
        " -}}",
        " ",
        "\n",
        ".",
        ".a",
        ".b",
        "$",
        "$x",
        "$i",
        ":=",
        "=",
        ",",
        "|",
        "(",
        ")",
        "if",
        "else",
        "end",
        "range",
        "with",
        "break",
        "continue",
        "and",
        "or",
        "not",
        "len",
        "index",
        "slice",
        "eq",
        "lt",
        "printf",
        "print",
        "html",
        "js",
        "urlquery",
        "toJson",
        "split",
        "join",
        "nil",
        "true",
        "1",
        "-2",
        "0.5",
        "'c'",
        "\"s\"",
        "\"%v %d %[2]*.*f %\"",
        "`r`",
        "/*",
        "*/",
        "text",
        "é",
        "{",
        "}",
        "\"",
    ];
    let input = data(r#"{"a": {"b": [1, "x", 2.5]}, "b": [3, 1], "s": "str"}"#);
    // A fixed linear congruential generator keeps the test deterministic.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut random = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % n
    };
    for _ in 0..3000 {
        let len = 1 + random(14);
        let source: String = (0..len).map(|_| PIECES[random(PIECES.len())]).collect();
        if let Ok(t) = Template::parse(&source) {
            let _ = t.render(&input);
        }
    }
}

#[test]
fn deeply_nested_ifs_fail_with_a_nesting_error() {
    let source = "{{if 1}}".repeat(5000);
    let err = parse_error(&source);
    assert!(err.contains("template nests too deeply"), "{err}");
}

#[test]
fn deeply_nested_data_renders_on_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let deep = nest(10_000);
            let whole = Template::parse("{{.}}").unwrap().render(&deep).unwrap();
            assert!(whole.starts_with(r#"{"input":{"input":"#));
            let three = Template::parse("{{.input.input.input}}")
                .unwrap()
                .evaluate(&deep)
                .unwrap();
            assert_eq!(three, nest(9_997));
            let count = Template::parse("{{len .}}").unwrap().render(&deep).unwrap();
            assert_eq!(count, "1");
            let printed = Template::parse(r#"{{toJson .}}|{{printf "%v" .}}|{{print .}}"#)
                .unwrap()
                .render(&deep)
                .unwrap();
            assert_eq!(printed.len(), 3 * whole.len() + 2);
            let pair = Value::object([("a", nest(10_000)), ("b", nest(10_000))]);
            let equal = Template::parse("{{eq .a .b}}").unwrap().render(&pair).unwrap();
            assert_eq!(equal, "true");
            drop((deep, three));
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn named_templates_are_defined_called_and_blocked_as_in_go() {
    let source = r#"{{define "item"}}<{{.name}}>{{end}}{{range .items}}{{template "item" .}}{{end}}"#;
    assert_eq!(render(source, r#"{"items": [{"name": "a"}, {"name": "b"}]}"#), "<a><b>");
    // Defined after use; no pipeline gives a null dot.
    assert_eq!(
        render(r#"{{template "t"}}|{{define "t"}}{{.}}{{end}}"#, "{}"),
        "<no value>|"
    );
    // `block` defines and calls in one; `$` inside is the call's dot.
    assert_eq!(
        render(
            r#"{{block "greet" .user}}hi {{$.name}}{{end}}!"#,
            r#"{"user": {"name": "ada"}}"#
        ),
        "hi ada!"
    );
    // A template may call itself.
    let walk = r#"{{define "walk"}}{{.name}}{{range .kids}}({{template "walk" .}}){{end}}{{end}}{{template "walk" .}}"#;
    assert_eq!(
        render(
            walk,
            r#"{"name": "r", "kids": [{"name": "a", "kids": [{"name": "b"}]}, {"name": "c"}]}"#
        ),
        "r(a(b))(c)"
    );
}

#[test]
fn named_template_mistakes_are_clear_errors() {
    assert!(parse_error(r#"{{define "a"}}x{{end}}{{define "a"}}y{{end}}"#).contains("defined twice"));
    assert!(parse_error(r#"{{if .}}{{define "a"}}x{{end}}{{end}}"#).contains("top level"));
    assert!(parse_error(r#"{{define a}}x{{end}}"#).contains("quoted template name"));
    assert!(parse_error(r#"{{range .}}{{define "a"}}{{break}}{{end}}{{end}}"#).contains("top level"));
    assert!(parse_error(r#"{{define "a"}}{{break}}{{end}}"#).contains("outside {{range}}"));
    assert!(render_error(r#"{{template "missing"}}"#, "{}").contains("no such template \"missing\""));
}

#[test]
fn a_template_calling_itself_without_end_stops_with_an_error() {
    let forever = r#"{{define "f"}}{{template "f" .}}{{template "f" .}}{{end}}{{template "f" .}}"#;
    let err = render_error(forever, "{}");
    assert!(err.contains("more than 10000 template calls"), "{err}");
}
