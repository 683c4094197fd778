"""Reports: model, PDF rendering (the only reportlab import), signing (the only pyhanko import)."""
