//! The terminal of the live screen: raw mode and the alternate screen (restored on drop, so on
//! every way out: `q`, Ctrl-C, the deadline, an error or a panic), keys and resizes as events,
//! and frames drawn line by line, each line cleared first so nothing of an earlier frame stays.

use std::io::Write as _;

use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::{Attribute, Color, ContentStyle, PrintStyledContent, StyledContent};
use crossterm::{cursor, queue, terminal};
use futures::StreamExt as _;

use crate::detect::Verdict;
use crate::error::Result;
use crate::render::live::Key;
use crate::render::screen::{Style, TextLine};

pub struct Terminal {
    events: EventStream,
    color: bool,
    active: bool,
}

/// What the terminal says.
pub enum TermEvent {
    Key(Key),
    /// Resized (SIGWINCH): redraw at the new size.
    Resize,
    Other,
    /// The input ended or failed: no more keys.
    Closed,
}

impl Terminal {
    pub fn enter(color: bool) -> Result<Terminal> {
        terminal::enable_raw_mode()?;
        let mut t = Terminal { events: EventStream::new(), color, active: true };
        let mut out = std::io::stdout();
        if let Err(e) = queue!(out, terminal::EnterAlternateScreen, cursor::Hide).and_then(|()| out.flush()) {
            t.leave();
            return Err(e.into());
        }
        Ok(t)
    }

    /// Columns and rows.
    pub fn size(&self) -> (usize, usize) {
        terminal::size().map_or((80, 24), |(w, h)| (usize::from(w), usize::from(h)))
    }

    pub async fn next(&mut self) -> TermEvent {
        match self.events.next().await {
            Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                key(k).map_or(TermEvent::Other, TermEvent::Key)
            }
            Some(Ok(Event::Resize(..))) => TermEvent::Resize,
            Some(Ok(_)) => TermEvent::Other,
            Some(Err(_)) | None => TermEvent::Closed,
        }
    }

    /// Draws a frame: every row of the screen is written or cleared.
    pub fn draw(&mut self, lines: &[TextLine]) -> Result<()> {
        let (_, height) = self.size();
        let mut out = std::io::stdout().lock();
        queue!(out, terminal::BeginSynchronizedUpdate)?;
        for row in 0..height {
            queue!(out, cursor::MoveTo(0, row as u16), terminal::Clear(terminal::ClearType::UntilNewLine))?;
            for span in lines.get(row).map_or(&[][..], |l| &l.spans[..]) {
                let content = StyledContent::new(self.style(span.style), span.text.as_str());
                queue!(out, PrintStyledContent(content))?;
            }
        }
        queue!(out, terminal::EndSynchronizedUpdate)?;
        out.flush()?;
        Ok(())
    }

    fn style(&self, style: Style) -> ContentStyle {
        let mut s = ContentStyle::new();
        let color = |c: Color| if self.color { Some(c) } else { None };
        match style {
            Style::Plain => {}
            Style::Dim => s.attributes.set(Attribute::Dim),
            Style::Bold => s.attributes.set(Attribute::Bold),
            Style::Warn => s.foreground_color = color(Color::Yellow),
            Style::Bad | Style::Verdict(Verdict::Hot) => {
                s.foreground_color = color(Color::Red);
                s.attributes.set(Attribute::Bold);
            }
            Style::Verdict(Verdict::Elevated) => s.foreground_color = color(Color::Yellow),
            Style::Verdict(Verdict::Ok) => s.foreground_color = color(Color::Green),
            Style::Selected => s.attributes.set(Attribute::Reverse),
        }
        s
    }

    /// Restores the screen as it was (idempotent).
    pub fn leave(&mut self) {
        if std::mem::take(&mut self.active) {
            let mut out = std::io::stdout();
            let _ = queue!(out, cursor::Show, terminal::LeaveAlternateScreen).and_then(|()| out.flush());
            let _ = terminal::disable_raw_mode();
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.leave();
    }
}

fn key(k: KeyEvent) -> Option<Key> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char('c') if ctrl => Key::Interrupt,
        KeyCode::Char(c) if !ctrl => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        _ => return None,
    })
}
