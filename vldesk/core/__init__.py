"""The Qt-free core: catalog, devices, images, engine, downloads, batch, history, export."""
