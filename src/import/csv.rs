//! A small RFC 4180 CSV reader: comma-separated fields, `"`-quoted fields that may hold commas,
//! line breaks and doubled quotes (`""`), records ended by LF or CRLF.
//!
//! Each record keeps the 1-based line it starts on, so the importer can point at it. Blank lines
//! are skipped (a trailing newline does not make an empty record).

use super::error::ImportError;

/// One CSV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line on which the record starts.
    pub line: usize,
    pub fields: Vec<String>,
}

/// The characters of the source still to read.
type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Split `src` into records. Errors on an unterminated quoted field, a quote inside an unquoted
/// field, or text after a closing quote.
pub fn parse(src: &str) -> Result<Vec<Record>, ImportError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut records = Vec::new();
    let mut chars = src.chars().peekable();
    let mut line = 1usize;

    while chars.peek().is_some() {
        let start_line = line;
        let fields = record(&mut chars, &mut line)?;
        let blank = fields.len() == 1 && fields.first().is_some_and(|f| f.is_empty());
        if !blank {
            records.push(Record {
                line: start_line,
                fields,
            });
        }
    }
    Ok(records)
}

/// The fields of the record starting at `chars`, read up to and including its line end;
/// `line` follows the line breaks read.
fn record(chars: &mut Chars<'_>, line: &mut usize) -> Result<Vec<String>, ImportError> {
    let mut fields = Vec::new();
    let mut field = String::new();
    // Whether the current field was quoted (and closed), so a following quote is an error.
    let mut closed_quote = false;
    loop {
        match chars.next() {
            None => {
                fields.push(std::mem::take(&mut field));
                break;
            }
            Some('\n') => {
                *line += 1;
                fields.push(std::mem::take(&mut field));
                break;
            }
            Some('\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                *line += 1;
                fields.push(std::mem::take(&mut field));
                break;
            }
            Some(',') => {
                fields.push(std::mem::take(&mut field));
                closed_quote = false;
            }
            Some('"') if field.is_empty() && !closed_quote => {
                quoted_field(chars, line, &mut field)?;
                closed_quote = true;
            }
            Some('"') => {
                return Err(ImportError::CsvSyntax {
                    line: *line,
                    message: "quote inside an unquoted field (quote the field and double it)"
                        .into(),
                })
            }
            Some(c) => {
                if closed_quote {
                    return Err(ImportError::CsvSyntax {
                        line: *line,
                        message: "text after the closing quote of a field".into(),
                    });
                }
                field.push(c);
            }
        }
    }
    Ok(fields)
}

/// The rest of a quoted field whose opening quote was just read, into `field`; only a field or
/// record end may follow its closing quote.
fn quoted_field(
    chars: &mut Chars<'_>,
    line: &mut usize,
    field: &mut String,
) -> Result<(), ImportError> {
    let quote_line = *line;
    loop {
        match chars.next() {
            None => {
                return Err(ImportError::CsvSyntax {
                    line: quote_line,
                    message: "quoted field is never closed".into(),
                })
            }
            Some('"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            Some('"') => break,
            Some(c) => {
                if c == '\n' {
                    *line += 1;
                }
                field.push(c);
            }
        }
    }
    match chars.peek() {
        None | Some(',') | Some('\n') | Some('\r') => Ok(()),
        // Usually a quote that was never closed, which swallowed the following lines up to the
        // next quote: point at where it opened.
        Some(_) if *line > quote_line => Err(ImportError::CsvSyntax {
            line: quote_line,
            message: format!(
                "the quoted field opened here runs to line {line} and is followed by text there \
                 (unbalanced quote?)"
            ),
        }),
        Some(_) => Err(ImportError::CsvSyntax {
            line: *line,
            message: "text after the closing quote of a field".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(src: &str) -> Vec<Vec<String>> {
        parse(src).unwrap().into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn plain_and_quoted_fields() {
        assert_eq!(
            fields("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n"),
            vec![vec!["a", "b", "c"], vec!["1", "x, y", "say \"hi\""]]
        );
    }

    #[test]
    fn empty_fields_and_quoted_empty() {
        assert_eq!(fields(",\"\",\n"), vec![vec!["", "", ""]]);
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        assert_eq!(fields("a,b\r\nc,d"), vec![vec!["a", "b"], vec!["c", "d"]]);
    }

    #[test]
    fn newline_inside_quotes_keeps_line_numbers() {
        let recs = parse("h\n\"two\nlines\",x\nlast\n").unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].fields, vec!["two\nlines", "x"]);
        assert_eq!(recs[1].line, 2);
        assert_eq!(recs[2].line, 4);
    }

    #[test]
    fn blank_lines_are_skipped_but_counted() {
        let recs = parse("a\n\n\nb\n").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].line, 4);
    }

    #[test]
    fn bom_is_ignored() {
        assert_eq!(fields("\u{feff}a,b\n"), vec![vec!["a", "b"]]);
    }

    #[test]
    fn unterminated_quote_reports_its_line() {
        let err = parse("a\nb\n\"open,\nstill open\n").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvSyntax { line: 3, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_runaway_quote_is_reported_where_it_opened() {
        let err = parse("a\n\"open,x\nb\nc,\"d\"e\n").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvSyntax { line: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("line 4"), "{err}");
    }

    #[test]
    fn stray_quotes_are_errors() {
        let err = parse("ok\nab\"c\n").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvSyntax { line: 2, .. }),
            "{err:?}"
        );
        let err = parse("\"ab\"c,d\n").unwrap_err();
        assert!(
            matches!(err, ImportError::CsvSyntax { line: 1, .. }),
            "{err:?}"
        );
    }
}
