"""Page helpers every HTML page of aidc shares: min/max-preserving downsampling, one colour per
name, axes, the page template with plotly.js (no aidc imports: any layer may use them)."""
