//! e2e: the real upstream CAPT controller.
