"""`nanlint server`: a Language Server over stdio (pygls), imported only by that command.

state.py lints the open documents as one project (no pygls), convert.py turns diagnostics and
fixes into LSP values, app.py wires them to the editor.
"""
