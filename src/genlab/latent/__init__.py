"""Latent-space tools.

    interpolate  lerp, slerp (great circle) and walks through several points
    attributes   measured attributes of generated images: ink, slant, class probabilities
    arithmetic   queries over labelled latents and mean(a) − mean(b) + mean(c)
    edit         classifier-guided edits of z
    directions   latent directions from labelled samples and their entanglement
    explore      the run-level commands behind `genlab interpolate | arithmetic | edit | direction`

The latent prior and the truncation trick live with the recipes that draw from them (:mod:`genlab.models.prior`).
"""
