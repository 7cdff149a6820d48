//! The syntax tree and the parser that builds it from tokens, following Go's
//! `text/template/parse`. Variables are checked here: using one that is not
//! in scope is a parse error.

use pocket_value::{Value, with_stack};

use crate::error::Located;
use crate::funcs::Func;
use crate::lex::{Keyword, Kind, Token, lex};
use crate::literal;

/// How deeply `{{if}}`, `{{with}}`, `{{range}}` and parentheses may nest.
pub(crate) const MAX_NESTING: usize = 256;

/// A sequence of nodes.
pub(crate) type List = Vec<Node>;

/// The named templates a source defines with `{{define}}` and `{{block}}`.
pub(crate) type Named = std::collections::HashMap<String, List>;

/// A parsed source: its top-level nodes and its named templates.
pub(crate) struct Tree {
    pub(crate) nodes: List,
    pub(crate) named: Named,
}

/// One piece of a template.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// Text printed as it is.
    Text(String),
    /// `{{pipeline}}`: its value is printed unless it declares or assigns variables.
    Action(Pipeline),
    /// `{{if}}` or `{{with}}`, with any `{{else if}}` / `{{else with}}` chain.
    Conditional(Conditional),
    /// `{{range}}`.
    Range(Range),
    /// `{{break}}` inside a range.
    Break,
    /// `{{continue}}` inside a range.
    Continue,
    /// `{{template "name" pipeline}}` (and the call half of `{{block}}`).
    Template(TemplateCall),
}

/// A call of a named template, with the pipeline whose value becomes its dot.
#[derive(Clone, Debug)]
pub(crate) struct TemplateCall {
    /// Where the call is in the source.
    pub(crate) pos: usize,
    pub(crate) name: String,
    /// Without one, dot is `null` in the called template.
    pub(crate) pipe: Option<Pipeline>,
}

/// `{{if a}}..{{else if b}}..{{else}}..{{end}}` or the same with `with`.
#[derive(Clone, Debug)]
pub(crate) struct Conditional {
    /// `with` sets dot to the pipeline's value; `if` leaves dot alone.
    pub(crate) with: bool,
    /// Tried in order; the first whose pipeline is true runs.
    pub(crate) branches: Vec<Branch>,
    /// Runs when no branch does.
    pub(crate) otherwise: Option<List>,
}

/// One condition and the nodes it guards.
#[derive(Clone, Debug)]
pub(crate) struct Branch {
    pub(crate) pipe: Pipeline,
    pub(crate) body: List,
}

/// `{{range pipeline}}..{{else}}..{{end}}`.
#[derive(Clone, Debug)]
pub(crate) struct Range {
    pub(crate) pipe: Pipeline,
    pub(crate) body: List,
    /// Runs when there is nothing to iterate.
    pub(crate) otherwise: Option<List>,
}

/// Commands joined by `|`, optionally declaring (`:=`) or assigning (`=`) variables.
#[derive(Clone, Debug)]
pub(crate) struct Pipeline {
    /// Where the pipeline starts in the source.
    pub(crate) pos: usize,
    /// Variable names, `$` included.
    pub(crate) decl: Vec<String>,
    /// `=` rather than `:=`.
    pub(crate) assign: bool,
    pub(crate) cmds: Vec<Command>,
}

/// An operand followed by its arguments: `printf "%d" .x`.
#[derive(Clone, Debug)]
pub(crate) struct Command {
    pub(crate) head: Operand,
    pub(crate) args: Vec<Operand>,
}

/// A term, and where it is in the source.
#[derive(Clone, Debug)]
pub(crate) struct Operand {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) term: Term,
}

/// What an operand is.
#[derive(Clone, Debug)]
pub(crate) enum Term {
    /// `.`
    Dot,
    /// `nil`
    Nil,
    /// A boolean, number or string literal.
    Literal(Value),
    /// `.a.b`
    Field(Vec<String>),
    /// `$x` or `$x.a.b`
    Variable { name: String, fields: Vec<String> },
    /// `(pipeline).a.b` or `func.a`.
    Chain { base: Box<Operand>, fields: Vec<String> },
    /// A function name.
    Function(Func),
    /// `(pipeline)`
    Pipe(Box<Pipeline>),
}

/// Parses template source into its top-level nodes and named templates.
pub(crate) fn parse(source: &str) -> Result<Tree, Located> {
    let lexed = lex(source);
    let mut parser = Parser {
        tokens: lexed.tokens,
        lex_error: lexed.error,
        idx: 0,
        vars: vec!["$".to_string()],
        range_depth: 0,
        depth: 0,
        named: Named::new(),
    };
    let nodes = parser.root()?;
    Ok(Tree {
        nodes,
        named: parser.named,
    })
}

/// What a `{{...}}` turned out to be.
enum Item {
    Node(Node),
    Close(Closer),
}

/// `{{end}}` or `{{else}}` (maybe followed by `if` or `with`, not yet consumed).
enum Closer {
    End(usize),
    Else { pos: usize, chained: Option<Keyword> },
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    lex_error: Option<Located>,
    idx: usize,
    /// Variables in scope, innermost last.
    vars: Vec<String>,
    /// How many `{{range}}` bodies enclose the current position.
    range_depth: usize,
    /// How many control structures and parentheses enclose the current position.
    depth: usize,
    /// The templates `{{define}}` and `{{block}}` named so far.
    named: Named,
}

type Parsed<T> = Result<T, Located>;

/// How a token appears in an error message.
fn describe(tok: &Token<'_>) -> String {
    match tok.kind {
        Kind::Eof => "EOF".to_string(),
        Kind::Keyword(_) => format!("<{}>", tok.text),
        _ if tok.text.chars().count() > 20 => {
            let head: String = tok.text.chars().take(20).collect();
            format!("{head:?}...")
        }
        _ => format!("{:?}", tok.text),
    }
}

impl<'a> Parser<'a> {
    /// The token at the cursor (the final Eof/Error token once past the end).
    fn current(&self) -> Parsed<Token<'a>> {
        let last = self.tokens.len().saturating_sub(1);
        let tok = self.tokens.get(self.idx.min(last)).copied().unwrap_or(Token {
            kind: Kind::Eof,
            pos: 0,
            text: "",
        });
        if tok.kind == Kind::Error {
            return Err(self
                .lex_error
                .clone()
                .unwrap_or_else(|| Located::new(tok.pos, "lexical error")));
        }
        Ok(tok)
    }

    fn peek(&self) -> Parsed<Token<'a>> {
        self.current()
    }

    fn next(&mut self) -> Parsed<Token<'a>> {
        let tok = self.current()?;
        self.idx += 1;
        Ok(tok)
    }

    fn backup(&mut self) {
        self.idx = self.idx.saturating_sub(1);
    }

    fn next_non_space(&mut self) -> Parsed<Token<'a>> {
        loop {
            let tok = self.next()?;
            if tok.kind != Kind::Space {
                return Ok(tok);
            }
        }
    }

    /// The next token that is not a space; the spaces before it are consumed.
    fn peek_non_space(&mut self) -> Parsed<Token<'a>> {
        let tok = self.next_non_space()?;
        self.backup();
        Ok(tok)
    }

    /// The byte offset just past the last consumed token.
    fn prev_end(&self) -> usize {
        self.idx
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, Token::end)
    }

    fn unexpected(&self, tok: &Token<'_>, context: &str) -> Located {
        Located::new(tok.pos, format!("unexpected {} in {context}", describe(tok)))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Parsed<Token<'a>> {
        let tok = self.next_non_space()?;
        if tok.kind != kind {
            return Err(self.unexpected(&tok, context));
        }
        Ok(tok)
    }

    /// Enters a nested structure, refusing to go deeper than [`MAX_NESTING`].
    fn enter(&mut self, pos: usize) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Located::new(
                pos,
                format!(
                    "template nests too deeply: more than {MAX_NESTING} levels of \
                     if, with, range and parentheses"
                ),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn root(&mut self) -> Parsed<List> {
        let mut list = Vec::new();
        while self.peek()?.kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(node) => list.push(node),
                Item::Close(Closer::End(pos)) => {
                    return Err(Located::new(pos, "unexpected {{end}}"));
                }
                Item::Close(Closer::Else { pos, .. }) => {
                    return Err(Located::new(pos, "unexpected {{else}}"));
                }
            }
        }
        Ok(list)
    }

    /// Nodes up to the `{{end}}` or `{{else}}` that closes `opener`.
    fn item_list(&mut self, opener: &Token<'_>) -> Parsed<(List, Closer)> {
        let mut list = Vec::new();
        loop {
            if self.peek_non_space()?.kind == Kind::Eof {
                return Err(Located::new(
                    opener.pos,
                    format!("unexpected EOF: {{{{{}}}}} has no {{{{end}}}}", opener.text),
                ));
            }
            match self.text_or_action()? {
                Item::Node(node) => list.push(node),
                Item::Close(closer) => return Ok((list, closer)),
            }
        }
    }

    fn text_or_action(&mut self) -> Parsed<Item> {
        let tok = self.next_non_space()?;
        match tok.kind {
            Kind::Text => Ok(Item::Node(Node::Text(tok.text.to_string()))),
            Kind::LeftDelim => self.action(),
            _ => Err(self.unexpected(&tok, "input")),
        }
    }

    fn action(&mut self) -> Parsed<Item> {
        let tok = self.next_non_space()?;
        let Kind::Keyword(keyword) = tok.kind else {
            self.backup();
            let pipe = self.pipeline("command", Kind::RightDelim)?;
            return Ok(Item::Node(Node::Action(pipe)));
        };
        match keyword {
            Keyword::Define => {
                if self.depth > 0 {
                    return Err(Located::new(tok.pos, "{{define}} must be at the top level"));
                }
                let name = self.template_name("define")?;
                self.expect(Kind::RightDelim, "define")?;
                self.enter(tok.pos)?;
                let body = with_stack(|| self.named_body(&tok))?;
                self.leave();
                self.name(tok.pos, name, body)?;
                // A definition prints nothing where it stands.
                Ok(Item::Node(Node::Text(String::new())))
            }
            Keyword::Template => {
                let name = self.template_name("template")?;
                let pipe = self.optional_pipeline("template")?;
                Ok(Item::Node(Node::Template(TemplateCall {
                    pos: tok.pos,
                    name,
                    pipe,
                })))
            }
            Keyword::Block => {
                let name = self.template_name("block")?;
                let pipe = self.pipeline("block", Kind::RightDelim)?;
                self.enter(tok.pos)?;
                let body = with_stack(|| self.named_body(&tok))?;
                self.leave();
                self.name(tok.pos, name.clone(), body)?;
                Ok(Item::Node(Node::Template(TemplateCall {
                    pos: tok.pos,
                    name,
                    pipe: Some(pipe),
                })))
            }
            Keyword::Break => self.loop_control(&tok, Node::Break),
            Keyword::Continue => self.loop_control(&tok, Node::Continue),
            Keyword::Else => {
                let next = self.peek_non_space()?;
                if let Kind::Keyword(chained @ (Keyword::If | Keyword::With)) = next.kind {
                    return Ok(Item::Close(Closer::Else {
                        pos: tok.pos,
                        chained: Some(chained),
                    }));
                }
                self.expect(Kind::RightDelim, "else")?;
                Ok(Item::Close(Closer::Else {
                    pos: tok.pos,
                    chained: None,
                }))
            }
            Keyword::End => {
                self.expect(Kind::RightDelim, "end")?;
                Ok(Item::Close(Closer::End(tok.pos)))
            }
            Keyword::If | Keyword::With => {
                self.enter(tok.pos)?;
                let node = with_stack(|| self.conditional(&tok, keyword == Keyword::With))?;
                self.leave();
                Ok(Item::Node(node))
            }
            Keyword::Range => {
                self.enter(tok.pos)?;
                let node = with_stack(|| self.range(&tok))?;
                self.leave();
                Ok(Item::Node(node))
            }
        }
    }

    /// The quoted name after `define`, `template` or `block`.
    fn template_name(&mut self, context: &str) -> Parsed<String> {
        let tok = self.next_non_space()?;
        match tok.kind {
            Kind::String => literal::string(tok.text).map_err(|e| Located::new(tok.pos, e)),
            Kind::RawString => Ok(literal::raw_string(tok.text)),
            _ => Err(Located::new(
                tok.pos,
                format!("{{{{{context}}}}} needs a quoted template name, not {}", describe(&tok)),
            )),
        }
    }

    /// `}}` (no pipeline), or a pipeline up to it.
    fn optional_pipeline(&mut self, context: &str) -> Parsed<Option<Pipeline>> {
        if self.peek_non_space()?.kind == Kind::RightDelim {
            self.next_non_space()?;
            return Ok(None);
        }
        self.pipeline(context, Kind::RightDelim).map(Some)
    }

    /// The body of a `{{define}}` or `{{block}}` up to its `{{end}}`: a
    /// template of its own, whose only variable at the start is `$` and in
    /// which `{{break}}` and `{{continue}}` cannot reach an outer range.
    fn named_body(&mut self, opener: &Token<'_>) -> Parsed<List> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let range_depth = std::mem::take(&mut self.range_depth);
        let listed = self.item_list(opener);
        self.vars = vars;
        self.range_depth = range_depth;
        match listed? {
            (body, Closer::End(_)) => Ok(body),
            (_, Closer::Else { pos, .. }) => Err(Located::new(
                pos,
                format!("unexpected {{{{else}}}} in {{{{{}}}}}", opener.text),
            )),
        }
    }

    /// Records the template `name`; a name may be defined once.
    fn name(&mut self, pos: usize, name: String, body: List) -> Parsed<()> {
        if self.named.contains_key(&name) {
            return Err(Located::new(pos, format!("template {name:?} is defined twice")));
        }
        self.named.insert(name, body);
        Ok(())
    }

    fn loop_control(&mut self, tok: &Token<'_>, node: Node) -> Parsed<Item> {
        let context = format!("{{{{{}}}}}", tok.text);
        let next = self.next_non_space()?;
        if next.kind != Kind::RightDelim {
            return Err(self.unexpected(&next, &context));
        }
        if self.range_depth == 0 {
            return Err(Located::new(tok.pos, format!("{context} outside {{{{range}}}}")));
        }
        Ok(Item::Node(node))
    }

    /// The `{{else}}` list that ends a control structure, which must itself end with `{{end}}`.
    fn else_list(&mut self, opener: &Token<'_>, chained: Option<Keyword>) -> Parsed<List> {
        if let Some(keyword) = chained {
            let tok = self.next_non_space()?;
            return Err(Located::new(
                tok.pos,
                format!(
                    "{{{{else {}}}}} cannot continue {{{{{}}}}}",
                    keyword_name(keyword),
                    opener.text
                ),
            ));
        }
        let mark = self.vars.len();
        let (list, closer) = self.item_list(opener)?;
        self.vars.truncate(mark);
        match closer {
            Closer::End(_) => Ok(list),
            Closer::Else { pos, .. } => Err(Located::new(pos, "expected {{end}}; found {{else}}")),
        }
    }

    /// `{{if}}` / `{{with}}` and their `{{else if}}` / `{{else with}}` chain.
    fn conditional(&mut self, opener: &Token<'_>, with: bool) -> Parsed<Node> {
        let context = if with { "with" } else { "if" };
        let own = if with { Keyword::With } else { Keyword::If };
        let mark = self.vars.len();
        let mut branches = Vec::new();
        let otherwise = loop {
            let pipe = self.pipeline(context, Kind::RightDelim)?;
            let body_mark = self.vars.len();
            let (body, closer) = self.item_list(opener)?;
            self.vars.truncate(body_mark);
            branches.push(Branch { pipe, body });
            match closer {
                Closer::End(_) => break None,
                Closer::Else {
                    chained: Some(keyword), ..
                } if keyword == own => {
                    self.next_non_space()?;
                }
                Closer::Else { chained, .. } => break Some(self.else_list(opener, chained)?),
            }
        };
        self.vars.truncate(mark);
        Ok(Node::Conditional(Conditional {
            with,
            branches,
            otherwise,
        }))
    }

    fn range(&mut self, opener: &Token<'_>) -> Parsed<Node> {
        let mark = self.vars.len();
        let pipe = self.pipeline("range", Kind::RightDelim)?;
        let body_mark = self.vars.len();
        self.range_depth += 1;
        let (body, closer) = self.item_list(opener)?;
        self.range_depth -= 1;
        self.vars.truncate(body_mark);
        let otherwise = match closer {
            Closer::End(_) => None,
            Closer::Else { chained, .. } => Some(self.else_list(opener, chained)?),
        };
        self.vars.truncate(mark);
        Ok(Node::Range(Range { pipe, body, otherwise }))
    }

    /// A pipeline up to the `end` token, with its variable declarations.
    fn pipeline(&mut self, context: &str, end: Kind) -> Parsed<Pipeline> {
        let pos = self.peek_non_space()?.pos;
        let mut decl: Vec<Token<'a>> = Vec::new();
        let mut operator = None;
        loop {
            let var = self.peek_non_space()?;
            if var.kind != Kind::Variable {
                break;
            }
            let before = self.idx;
            self.next()?;
            let op = self.peek_non_space()?;
            match op.kind {
                Kind::Declare | Kind::Assign => {
                    self.next()?;
                    decl.push(var);
                    operator = Some(op.kind);
                    break;
                }
                Kind::Char if op.text == "," => {
                    self.next()?;
                    decl.push(var);
                    if context == "range" && decl.len() < 2 {
                        let after = self.peek_non_space()?;
                        if matches!(after.kind, Kind::Variable | Kind::RightDelim | Kind::RightParen) {
                            continue;
                        }
                        return Err(Located::new(after.pos, "range can only initialize variables"));
                    }
                    return Err(Located::new(var.pos, format!("too many declarations in {context}")));
                }
                _ => {
                    self.idx = before;
                    break;
                }
            }
        }
        let assign = operator == Some(Kind::Assign);
        if assign {
            for var in &decl {
                self.use_var(var)?;
            }
        }

        let mut cmds = Vec::new();
        let mut after_pipe = None;
        loop {
            let tok = self.next_non_space()?;
            if tok.kind == end {
                if let Some(pipe_pos) = after_pipe {
                    return Err(Located::new(pipe_pos, "missing command after |"));
                }
                break;
            }
            match tok.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let (cmd, piped) = self.command()?;
                    cmds.push(cmd);
                    after_pipe = piped;
                }
                _ => return Err(self.unexpected(&tok, context)),
            }
        }
        check_pipeline(&cmds, context, pos)?;
        if !assign {
            self.vars.extend(decl.iter().map(|v| v.text.to_string()));
        }
        Ok(Pipeline {
            pos,
            decl: decl.iter().map(|v| v.text.to_string()).collect(),
            assign,
            cmds,
        })
    }

    /// One command; also returns the position of the `|` that ended it, if one did.
    fn command(&mut self) -> Parsed<(Command, Option<usize>)> {
        let mut operands = Vec::new();
        let piped = loop {
            self.peek_non_space()?;
            if let Some(operand) = self.operand()? {
                operands.push(operand);
            }
            let tok = self.next()?;
            match tok.kind {
                Kind::Space => {}
                Kind::RightDelim | Kind::RightParen => {
                    self.backup();
                    break None;
                }
                Kind::Pipe => break Some(tok.pos),
                _ => return Err(self.unexpected(&tok, "operand")),
            }
        };
        let mut operands = operands.into_iter();
        let Some(head) = operands.next() else {
            return Err(Located::new(self.prev_end(), "empty command"));
        };
        Ok((
            Command {
                head,
                args: operands.collect(),
            },
            piped,
        ))
    }

    /// A term and any `.field` chain directly after it.
    fn operand(&mut self) -> Parsed<Option<Operand>> {
        let Some(operand) = self.term()? else {
            return Ok(None);
        };
        if self.peek()?.kind != Kind::Field {
            return Ok(Some(operand));
        }
        let mut more = Vec::new();
        while self.peek()?.kind == Kind::Field {
            more.push(self.next()?.text[1..].to_string());
        }
        let start = operand.start;
        let end = self.prev_end();
        let term = match operand.term {
            Term::Field(mut fields) => {
                fields.extend(more);
                Term::Field(fields)
            }
            Term::Variable { name, mut fields } => {
                fields.extend(more);
                Term::Variable { name, fields }
            }
            Term::Literal(_) | Term::Dot | Term::Nil => {
                return Err(Located::new(start, "unexpected . after a literal, nil or dot"));
            }
            _ => Term::Chain {
                base: Box::new(operand),
                fields: more,
            },
        };
        Ok(Some(Operand { start, end, term }))
    }

    fn term(&mut self) -> Parsed<Option<Operand>> {
        let tok = self.next_non_space()?;
        let term = match tok.kind {
            Kind::Identifier => match Func::lookup(tok.text) {
                Some(func) => Term::Function(func),
                None => {
                    return Err(Located::new(tok.pos, format!("function {:?} not defined", tok.text)));
                }
            },
            Kind::Dot => Term::Dot,
            Kind::Nil => Term::Nil,
            Kind::Variable => {
                self.use_var(&tok)?;
                Term::Variable {
                    name: tok.text.to_string(),
                    fields: Vec::new(),
                }
            }
            Kind::Field => Term::Field(vec![tok.text[1..].to_string()]),
            Kind::Bool => Term::Literal(Value::Bool(tok.text == "true")),
            Kind::Number => Term::Literal(literal::number(tok.text).map_err(|m| Located::new(tok.pos, m))?),
            Kind::CharConstant => Term::Literal(literal::character(tok.text).map_err(|m| Located::new(tok.pos, m))?),
            Kind::String => Term::Literal(Value::from(
                literal::string(tok.text).map_err(|m| Located::new(tok.pos, m))?,
            )),
            Kind::RawString => Term::Literal(Value::from(literal::raw_string(tok.text))),
            Kind::LeftParen => {
                self.enter(tok.pos)?;
                let pipe = with_stack(|| self.pipeline("parenthesized pipeline", Kind::RightParen))?;
                self.leave();
                Term::Pipe(Box::new(pipe))
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(Operand {
            start: tok.pos,
            end: self.prev_end(),
            term,
        }))
    }

    /// Checks that the variable `tok` names is in scope.
    fn use_var(&self, tok: &Token<'_>) -> Parsed<()> {
        if self.vars.iter().rev().any(|v| v == tok.text) {
            Ok(())
        } else {
            Err(Located::new(tok.pos, format!("undefined variable {:?}", tok.text)))
        }
    }
}

fn keyword_name(keyword: Keyword) -> &'static str {
    match keyword {
        Keyword::With => "with",
        _ => "if",
    }
}

/// Rejects empty pipelines and literals after a `|`.
fn check_pipeline(cmds: &[Command], context: &str, pos: usize) -> Parsed<()> {
    if cmds.is_empty() {
        return Err(Located::new(pos, format!("missing value for {context}")));
    }
    for (i, cmd) in cmds.iter().enumerate().skip(1) {
        if matches!(cmd.head.term, Term::Literal(_) | Term::Dot | Term::Nil) {
            return Err(Located::new(
                cmd.head.start,
                format!("non executable command in pipeline stage {}", i + 1),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: &str) -> String {
        parse(source).err().expect("a parse error").message
    }

    #[test]
    fn text_and_actions_become_nodes() {
        let nodes = parse("a{{.x}}b").unwrap().nodes;
        assert!(matches!(
            nodes.as_slice(),
            [Node::Text(_), Node::Action(_), Node::Text(_)]
        ));
    }

    #[test]
    fn field_chains_merge_into_one_operand() {
        let nodes = parse("{{.a.b.c}}").unwrap().nodes;
        let [Node::Action(pipe)] = nodes.as_slice() else {
            panic!("one action")
        };
        assert!(matches!(&pipe.cmds[0].head.term, Term::Field(f) if f == &["a", "b", "c"]));
    }

    #[test]
    fn fields_after_parentheses_form_a_chain() {
        let nodes = parse("{{(index .x 0).name}}").unwrap().nodes;
        let [Node::Action(pipe)] = nodes.as_slice() else {
            panic!("one action")
        };
        assert!(matches!(&pipe.cmds[0].head.term, Term::Chain { fields, .. } if fields == &["name"]));
    }

    #[test]
    fn else_if_chains_are_flat() {
        let nodes = parse("{{if .a}}1{{else if .b}}2{{else if .c}}3{{else}}4{{end}}")
            .unwrap()
            .nodes;
        let [Node::Conditional(c)] = nodes.as_slice() else {
            panic!("one conditional")
        };
        assert_eq!(c.branches.len(), 3);
        assert!(c.otherwise.is_some());
    }

    #[test]
    fn misplaced_keywords_are_errors() {
        assert_eq!(error("{{end}}"), "unexpected {{end}}");
        assert_eq!(error("{{else}}"), "unexpected {{else}}");
        assert_eq!(error("{{break}}"), "{{break}} outside {{range}}");
        assert_eq!(
            error("{{range .}}{{else}}{{continue}}{{end}}"),
            "{{continue}} outside {{range}}"
        );
    }

    #[test]
    fn empty_conditions_are_errors() {
        assert_eq!(error("{{if}}x{{end}}"), "missing value for if");
        assert_eq!(error("{{range}}{{end}}"), "missing value for range");
        assert_eq!(error("{{}}"), "missing value for command");
    }

    #[test]
    fn unclosed_structures_name_their_opener() {
        assert_eq!(error("{{if .a}}x"), "unexpected EOF: {{if}} has no {{end}}");
        assert_eq!(
            error("{{if .a}}{{else}}{{else}}{{end}}"),
            "expected {{end}}; found {{else}}"
        );
    }

    #[test]
    fn unknown_functions_are_errors() {
        assert_eq!(error("{{foo 1}}"), "function \"foo\" not defined");
    }

    #[test]
    fn variables_must_be_declared_before_use() {
        assert_eq!(error("{{$x}}"), "undefined variable \"$x\"");
        assert_eq!(error("{{$x = 1}}"), "undefined variable \"$x\"");
        assert_eq!(error("{{if 1}}{{$x := 1}}{{end}}{{$x}}"), "undefined variable \"$x\"");
        assert_eq!(
            error("{{if 1}}{{$x := 1}}{{else}}{{$x}}{{end}}"),
            "undefined variable \"$x\""
        );
        assert!(parse("{{$x := 1}}{{if $x}}{{$x = 2}}{{end}}{{$x}}").is_ok());
        assert!(parse("{{if $x := 1}}{{else if $y := 2}}{{$x}}{{$y}}{{end}}").is_ok());
    }

    #[test]
    fn only_range_declares_two_variables() {
        assert!(parse("{{range $i, $v := .}}{{$i}}{{$v}}{{end}}").is_ok());
        assert_eq!(error("{{if $a, $b := .}}{{end}}"), "too many declarations in if");
        assert_eq!(
            error("{{range $a, $b, $c := .}}{{end}}"),
            "too many declarations in range"
        );
    }

    #[test]
    fn literals_cannot_follow_a_pipe() {
        assert_eq!(error("{{.x | 1}}"), "non executable command in pipeline stage 2");
        assert_eq!(error("{{.x |}}"), "missing command after |");
    }

    #[test]
    fn fields_cannot_follow_literals() {
        assert_eq!(error("{{\"x\".y}}"), "unexpected . after a literal, nil or dot");
    }

    #[test]
    fn named_templates_are_collected_and_calls_become_nodes() {
        let tree = parse("{{define \"x\"}}a{{end}}{{template \"x\" .}}{{block \"y\" .}}b{{end}}").unwrap();
        assert_eq!(tree.named.len(), 2);
        let calls = tree.nodes.iter().filter(|n| matches!(n, Node::Template(_))).count();
        assert_eq!(calls, 2, "`template` and `block` each call");
        assert_eq!(
            error("{{block \"z\" .}}{{else}}{{end}}"),
            "unexpected {{else}} in {{block}}"
        );
    }

    #[test]
    fn else_with_cannot_continue_an_if() {
        assert_eq!(
            error("{{if 1}}{{else with 2}}{{end}}"),
            "{{else with}} cannot continue {{if}}"
        );
    }

    #[test]
    fn nesting_is_capped() {
        let deep = "{{if 1}}".repeat(MAX_NESTING + 1);
        assert!(error(&deep).starts_with("template nests too deeply"));
        let parens = format!("{{{{{}1{}}}}}", "(".repeat(5000), ")".repeat(5000));
        assert!(error(&parens).starts_with("template nests too deeply"));
        let ok = format!("{}{}", "{{if 1}}".repeat(MAX_NESTING), "{{end}}".repeat(MAX_NESTING));
        assert!(parse(&ok).is_ok());
    }
}
