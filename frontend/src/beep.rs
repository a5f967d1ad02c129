//! A short two-tone beep through WebAudio, for a critical alert on the duty console.
//!
//! Browsers keep audio suspended until the user has interacted with the page: [`unlock`] is
//! called from click handlers, and a beep before that stays silent. Every failure is silent —
//! a wall without speakers, or a browser without WebAudio, must not break the page.

use std::cell::RefCell;
use web_sys::{AudioContext, AudioContextState, OscillatorType};

thread_local! {
    // One context for the page's life: browsers limit how many may exist.
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// The page's audio context, made on first use.
fn context() -> Option<AudioContext> {
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = AudioContext::new().ok();
        }
        c.clone()
    })
}

/// Lets later beeps sound: call from a user gesture (a click).
pub fn unlock() {
    if let Some(ctx) = context() {
        if ctx.state() == AudioContextState::Suspended {
            let _ = ctx.resume();
        }
    }
}

/// Plays the beep (about 0.5 s) if the browser lets it.
pub fn beep() {
    let Some(ctx) = context() else { return };
    if ctx.state() != AudioContextState::Running {
        // Blocked until a gesture; try, and stay silent this time.
        let _ = ctx.resume();
        return;
    }
    let start = ctx.current_time();
    for (frequency, offset) in [(988.0_f32, 0.0), (740.0, 0.25)] {
        let _ = tone(&ctx, frequency, start + offset, 0.2);
    }
}

/// One tone of `length` seconds starting at `at` on the context's clock.
fn tone(ctx: &AudioContext, frequency: f32, at: f64, length: f64) -> Option<()> {
    let osc = ctx.create_oscillator().ok()?;
    osc.set_type(OscillatorType::Square);
    osc.frequency().set_value(frequency);
    let gain = ctx.create_gain().ok()?;
    let volume = gain.gain();
    volume.set_value_at_time(0.15, at).ok()?;
    volume
        .exponential_ramp_to_value_at_time(0.001, at + length)
        .ok()?;
    osc.connect_with_audio_node(&gain).ok()?;
    gain.connect_with_audio_node(&ctx.destination()).ok()?;
    osc.start_with_when(at).ok()?;
    osc.stop_with_when(at + length).ok()?;
    Some(())
}
