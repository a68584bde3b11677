"""Background work: inference on one long-lived thread, image and thumbnail decoding on pools."""
